/*
 * explore.h
 *	  Data exploration: profiles, correlations, duplicates, outliers, feature
 *	  scores (explore.c) and principal components (pca.c).
 */
#ifndef MLCYCLE_EXPLORE_H
#define MLCYCLE_EXPLORE_H

#include "postgres.h"

/* Column kinds of a profile */
typedef enum MlcExploreKind
{
	MLC_EXPLORE_NUMERIC,
	MLC_EXPLORE_CATEGORICAL,
	MLC_EXPLORE_TEMPORAL,
	MLC_EXPLORE_OTHER
} MlcExploreKind;

/* One readable column of a relation, and the SQL expression an aggregate reads */
typedef struct MlcExploreCol
{
	char	   *name;
	Oid			typid;			/* as declared */
	MlcExploreKind kind;
	bool		integer;		/* int2/4/8 */
	char	   *expr;			/* float8 for numeric and temporal, text otherwise */
} MlcExploreCol;

/* a profile flags a column whose NULL fraction is at least this */
#define MLC_HIGH_MISSING	0.4
/* and an identifier when distinct values are at least this share of its values */
#define MLC_ID_SHARE		0.95

/* Resolve a relation like ml_train does; the caller needs SELECT on it or on some columns */
extern Oid	mlc_explore_resolve(const char *relation);

/* Every column of relid the caller may read (an error names the first one not) */
extern MlcExploreCol *mlc_explore_columns(Oid relid, int *ncols);

/* The relation's schema-qualified, quoted name */
extern char *mlc_explore_relname(Oid relid);

/* Upper tail of the F distribution with d1 and d2 degrees of freedom */
extern double mlc_f_sf(double f, double d1, double d2);

#endif							/* MLCYCLE_EXPLORE_H */
