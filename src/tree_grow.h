/*
 * tree_grow.h
 *	  Shared machinery of the tree learners (tree.c): quantized training rows,
 *	  the histogram tree grower and the flat-tree builder.  gbdt.c and
 *	  forest.c drive it; nothing here is SQL-visible.
 */
#ifndef MLCYCLE_TREE_GROW_H
#define MLCYCLE_TREE_GROW_H

#include "postgres.h"

#include "common/pg_prng.h"

#include "tree.h"

/* Training rows as bin indexes: bin 0 is missing, 1..nb[f] are value bins */
typedef struct MlcBins
{
	int64		n;
	int			p;
	bool		wide;			/* uint16 bins (max_bin > 255) */
	uint8	   *b8;				/* n x p, row-major */
	uint16	   *b16;
	int32	   *nb;				/* value bins of each feature */
	int32	   *off;			/* first histogram bin of each feature; off[p] in all */
	double	  **thr;			/* nb[f] - 1 increasing thresholds: bin b holds (thr[b-2], thr[b-1]] */
} MlcBins;

/* A node of the tree being grown */
typedef struct MlcGNode
{
	int32		feature;		/* -1 for a leaf */
	int32		split_bin;		/* rows with bin <= split_bin (and > 0) go left */
	bool		default_left;
	int32		left;
	int32		right;
	int32		leaf;			/* leaf index, or -1 */
	double		gain;
	double		cover;			/* hessian sum (gbdt) or weight (forests) */
} MlcGNode;

/*
 * The grower: grows one tree on the rows idx[0..nidx) at a time.  Each row
 * has C gradient channels, a hessian and a weight.  Mode A (C = 1) reads
 * {g, h, w} triples at gp + r * gstride; mode B (forest classification,
 * C = nclasses) reads a class index and a weight, with gradient -w on the
 * row's class and h = w.
 */
typedef struct MlcGrower
{
	const MlcBins *B;
	int			C;
	int			S;				/* stats per histogram bin: C + 2 */
	const double *gp;
	int			gstride;
	const int32 *cls;			/* mode B */
	const double *w;			/* mode B */
	int32	   *idx;
	int32	   *tmp;
	int64		nidx;
	/* settings */
	double		lr;
	double		lambda;
	double		alpha;
	double		min_child_weight;
	double		min_samples_leaf;
	double		min_gain;
	int			max_depth;
	int			max_leaves;
	bool	   *feat_allowed;	/* per tree, NULL: all */
	int			split_features; /* features drawn per split, 0: all */
	pg_prng_state *rng;
	/* histogram buffers */
	Size		hist_len;
	double	  **pool;
	int			npool;
	int			pool_cap;
	/* the tree grown */
	MlcGNode   *nodes;
	int			nnodes;
	int			node_cap;
	double	   *leafvals;		/* C per leaf */
	int			nleaves;
	int			leaf_cap;
	int64	   *leaf_begin;		/* rows idx[leaf_begin..leaf_end) reached each leaf */
	int64	   *leaf_end;
	int			depth;			/* depth reached */
} MlcGrower;

/* The trees fitted so far, in the flat layout (tree.h) */
typedef struct MlcFlat
{
	int			leaf_width;
	double	   *nodes;
	int64		nnodes;
	int64		node_cap;
	double	   *leaves;
	int64		nleaves;
	int64		leaf_cap;
	int64	   *tree_start;
	int		   *tree_group;
	int			ntrees;
	int			tree_cap;
} MlcFlat;

extern MlcBins *mlc_bins_build(const MlcTreeData *d, int max_bin, int seed);
extern void mlc_grower_init(MlcGrower *g, const MlcBins *B, int C, int64 nrows);
extern void mlc_grow_tree(MlcGrower *g);
extern int32 mlc_grown_leaf(const MlcGrower *g, int64 r);
extern void mlc_flat_init(MlcFlat *fl, int leaf_width);
extern void mlc_flat_add(MlcFlat *fl, const MlcGrower *g, int group);
extern void mlc_flat_truncate(MlcFlat *fl, int ntrees);
extern void mlc_flat_store(MlcModel *m, const MlcFlat *fl, int ngroups, int combine,
						   const double *base);
extern void mlc_tree_prng(pg_prng_state *rng, int seed, int stream);

#endif							/* MLCYCLE_TREE_GROW_H */
