/*
 * jsonutil.h
 *	  Reading the jsonb options users pass (hyperparams, preprocess):
 *	  object members, strings and numbers, with errors that name the option.
 */
#ifndef MLCYCLE_JSONUTIL_H
#define MLCYCLE_JSONUTIL_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef struct MlcJsonPair
{
	char	   *key;
	JsonbValue	value;			/* scalars, or jbvBinary for containers */
} MlcJsonPair;

/* Members of a jsonb object (error naming what when it is not an object) */
extern List *mlc_json_pairs(JsonbContainer *c, const char *what);

/* Members of a top-level jsonb value */
extern List *mlc_jsonb_pairs(Jsonb *j, const char *what);

/* A member's value as a string / number / boolean, or an error naming the key */
extern char *mlc_json_string(const MlcJsonPair *p, const char *what);
extern double mlc_json_number(const MlcJsonPair *p, const char *what);

/* Index of s in a NULL-terminated list of names, or an error listing them */
extern int	mlc_choose(const char *s, const char *const *valid, const char *what);

/* "a, b, c" from a NULL-terminated list */
extern char *mlc_join_names(const char *const *names);

#endif							/* MLCYCLE_JSONUTIL_H */
