/*
 * tree.c
 *	  The machinery the tree learners share: quantizing training rows into
 *	  bins, growing one tree from gradient histograms (with the subtraction
 *	  trick and a learned direction for missing values), the flat tree layout,
 *	  scoring, feature importance and exact path-dependent TreeSHAP.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "mlcycle.h"
#include "tree_grow.h"

/* rows whose values the cut points are computed from, at most */
#define MLC_CUT_SAMPLE			200000

/* ---------- quantization ---------- */

/* A PRNG for one purpose (stream) of a fit with this seed */
void
mlc_tree_prng(pg_prng_state *rng, int seed, int stream)
{
	pg_prng_seed(rng, ((uint64) (uint32) seed << 32) ^ (uint64) (stream * 0x9E3779B9u + 1));
}

static int
mlc_cmp_dbl(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * Thresholds of one feature from its sorted non-missing values: every
 * distinct value its own bin when there are at most max_bin, else bins of
 * about equal counts.  As in XGBoost, a split between two training values a
 * < b sends x < b left: the threshold is the double just below b.
 */
static int32
mlc_cut_points(const double *v, int64 n, int max_bin, double *thr)
{
	int64		ndistinct = 0;
	int32		nthr = 0;

	for (int64 i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			ndistinct++;
	if (ndistinct <= max_bin)
	{
		for (int64 i = 1; i < n; i++)
			if (v[i] != v[i - 1])
				thr[nthr++] = nextafter(v[i], -INFINITY);
		return nthr;
	}
	for (int64 i = 0; i < n - 1 && nthr < max_bin - 1;)
	{
		int64		j = i;

		/* the end of this run of equal values */
		while (j + 1 < n && v[j + 1] == v[i])
			j++;
		if (j + 1 < n && (double) (j + 1) >= (double) (nthr + 1) * (double) n / max_bin)
			thr[nthr++] = nextafter(v[j + 1], -INFINITY);
		i = j + 1;
	}
	return nthr;
}

/* Bin of a value: 0 when missing, else 1 + the thresholds below it */
static inline int32
mlc_value_bin(const MlcBins *B, int f, double v)
{
	const double *t = B->thr[f];
	int32		lo = 0,
				hi = B->nb[f] - 1;

	if (isnan(v))
		return 0;
	while (lo < hi)
	{
		int32		mid = (lo + hi) / 2;

		if (t[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo + 1;
}

/* The training rows to compute cut points from: all, or a seeded sample */
static int64 *
mlc_cut_rows(const MlcTreeData *d, int seed, int64 *ns)
{
	int64		n = d->n;
	int64		k = Min(n, (int64) MLC_CUT_SAMPLE);
	int64	   *pick = palloc(sizeof(int64) * Max(n, 1));
	pg_prng_state rng;

	for (int64 i = 0; i < n; i++)
		pick[i] = d->rows[i];
	if (k < n)
	{
		mlc_tree_prng(&rng, seed, 1);
		for (int64 i = 0; i < k; i++)
		{
			int64		j = i + (int64) pg_prng_uint64_range(&rng, 0, (uint64) (n - 1 - i));
			int64		t = pick[i];

			pick[i] = pick[j];
			pick[j] = t;
		}
	}
	*ns = k;
	return pick;
}

/* Cut points of every feature */
static void
mlc_bins_cuts(MlcBins *B, const MlcTreeData *d, int max_bin, int seed)
{
	int			p = B->p;
	int64		ns;
	int64	   *rows = mlc_cut_rows(d, seed, &ns);
	double	   *X,
			   *col = palloc(sizeof(double) * Max(ns, 1));

	mlc_check_memory(sizeof(double) * (Size) ns * (Size) Max(p, 1), "rows sampled for the cut points");
	X = mlc_alloc_large(sizeof(double) * (Size) ns * (Size) Max(p, 1));
	mlc_transform_rows(d->t, rows, ns, X, p);
	B->off[0] = 0;
	for (int f = 0; f < p; f++)
	{
		int64		nv = 0;

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < ns; i++)
		{
			double		v = X[i * p + f];

			if (!isnan(v))
				col[nv++] = v;
		}
		qsort(col, nv, sizeof(double), mlc_cmp_dbl);
		B->thr[f] = palloc(sizeof(double) * max_bin);
		B->nb[f] = mlc_cut_points(col, nv, max_bin, B->thr[f]) + 1;
		B->off[f + 1] = B->off[f] + B->nb[f] + 1;
	}
	pfree(X);
	pfree(col);
	pfree(rows);
}

/* Quantize the training rows (d->rows, in order) into bins, within the memory budget */
MlcBins *
mlc_bins_build(const MlcTreeData *d, int max_bin, int seed)
{
	MlcBins    *B = palloc0(sizeof(MlcBins));
	int			p = d->t->m->nfeatures;
	int			block = 4096;
	double	   *buf = palloc(sizeof(double) * block * Max(p, 1));
	Size		cells = (Size) d->n * (Size) Max(p, 1);

	B->n = d->n;
	B->p = p;
	B->wide = max_bin > 255;
	B->nb = palloc(sizeof(int32) * Max(p, 1));
	B->off = palloc(sizeof(int32) * (p + 1));
	B->thr = palloc(sizeof(double *) * Max(p, 1));
	mlc_check_memory(cells * (B->wide ? 2 : 1), "training rows as bin indexes");
	if (B->wide)
		B->b16 = mlc_alloc_large(cells * 2);
	else
		B->b8 = mlc_alloc_large(Max(cells, 1));
	mlc_bins_cuts(B, d, max_bin, seed);
	for (int64 start = 0; start < d->n; start += block)
	{
		int			nb = (int) Min((int64) block, d->n - start);

		CHECK_FOR_INTERRUPTS();
		mlc_transform_rows(d->t, d->rows + start, nb, buf, p);
		for (int i = 0; i < nb; i++)
			for (int f = 0; f < p; f++)
			{
				int32		b = mlc_value_bin(B, f, buf[(Size) i * p + f]);
				Size		at = (Size) (start + i) * p + f;

				if (B->wide)
					B->b16[at] = (uint16) b;
				else
					B->b8[at] = (uint8) b;
			}
	}
	pfree(buf);
	return B;
}

/* Bin of row r, feature f */
static inline int32
mlc_bin_at(const MlcBins *B, int64 r, int f)
{
	Size		at = (Size) r * B->p + f;

	return B->wide ? B->b16[at] : B->b8[at];
}

/* ---------- growing one tree ---------- */

/* A node waiting to be split */
typedef struct MlcPending
{
	int32		id;				/* its MlcGNode */
	int64		begin;			/* rows idx[begin..end) */
	int64		end;
	int			depth;
	double	   *hist;
	double	   *tot;			/* S stats of the node */
	double	   *ltot;			/* S stats of the best split's left side */
	int32		feature;		/* best split, -1 when none */
	int32		split_bin;
	bool		default_left;
	double		gain;
} MlcPending;

/* Prepare a grower for trees on up to nrows rows */
void
mlc_grower_init(MlcGrower *g, const MlcBins *B, int C, int64 nrows)
{
	memset(g, 0, sizeof(*g));
	g->B = B;
	g->C = C;
	g->S = C + 2;
	g->hist_len = (Size) B->off[B->p] * g->S;
	mlc_check_memory(sizeof(int32) * 2 * (Size) Max(nrows, 1), "row index of the tree grower");
	g->idx = mlc_alloc_large(sizeof(int32) * (Size) Max(nrows, 1));
	g->tmp = mlc_alloc_large(sizeof(int32) * (Size) Max(nrows, 1));
	g->pool_cap = 16;
	g->pool = palloc(sizeof(double *) * g->pool_cap);
	g->node_cap = 64;
	g->nodes = palloc(sizeof(MlcGNode) * g->node_cap);
	g->leaf_cap = 32;
	g->leafvals = palloc(sizeof(double) * g->leaf_cap * C);
	g->leaf_begin = palloc(sizeof(int64) * g->leaf_cap);
	g->leaf_end = palloc(sizeof(int64) * g->leaf_cap);
}

/* A zeroed histogram from the pool */
static double *
mlc_hist_get(MlcGrower *g)
{
	if (g->npool > 0)
	{
		double	   *h = g->pool[--g->npool];

		memset(h, 0, sizeof(double) * g->hist_len);
		return h;
	}
	mlc_check_memory(sizeof(double) * g->hist_len, "split histograms");
	return palloc0(sizeof(double) * Max(g->hist_len, 1));
}

/* Give a histogram back to the pool */
static void
mlc_hist_put(MlcGrower *g, double *h)
{
	if (h == NULL)
		return;
	if (g->npool == g->pool_cap)
	{
		g->pool_cap *= 2;
		g->pool = repalloc(g->pool, sizeof(double *) * g->pool_cap);
	}
	g->pool[g->npool++] = h;
}

/* Add the rows idx[begin..end) to hist: the hot loop of training */
static void
mlc_hist_build(const MlcGrower *g, double *hist, int64 begin, int64 end)
{
	const MlcBins *B = g->B;
	int			p = B->p;
	const int32 *off = B->off;

	if (g->cls == NULL)
	{
		for (int64 i = begin; i < end; i++)
		{
			int64		r = g->idx[i];
			const double *gp = g->gp + r * g->gstride;
			double		gr = gp[0],
						hr = gp[1],
						wr = gp[2];

			if (((i - begin) & 0xFFFF) == 0xFFFF)
				CHECK_FOR_INTERRUPTS();
			/* rows of a deep node are scattered: fetch a later row's bins and gradients early */
			if (i + 16 < end)
			{
				int64		ahead = g->idx[i + 16];

				__builtin_prefetch(g->gp + ahead * g->gstride);
				__builtin_prefetch(B->wide ? (const void *) (B->b16 + (Size) ahead * p) :
								   (const void *) (B->b8 + (Size) ahead * p));
			}
			if (!B->wide)
			{
				const uint8 *row = B->b8 + (Size) r * p;

				for (int f = 0; f < p; f++)
				{
					double	   *hb = hist + (Size) (off[f] + row[f]) * 3;

					hb[0] += gr;
					hb[1] += hr;
					hb[2] += wr;
				}
			}
			else
			{
				const uint16 *row = B->b16 + (Size) r * p;

				for (int f = 0; f < p; f++)
				{
					double	   *hb = hist + (Size) (off[f] + row[f]) * 3;

					hb[0] += gr;
					hb[1] += hr;
					hb[2] += wr;
				}
			}
		}
		return;
	}
	for (int64 i = begin; i < end; i++)
	{
		int64		r = g->idx[i];
		double		wr = g->w[r];
		int			c = g->cls[r];
		int			S = g->S;

		if (((i - begin) & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		for (int f = 0; f < p; f++)
		{
			double	   *hb = hist + (Size) (off[f] + mlc_bin_at(B, r, f)) * S;

			hb[c] -= wr;
			hb[g->C] += wr;
			hb[g->C + 1] += wr;
		}
	}
}

/* Soft-thresholded gradient (L1 penalty alpha) */
static inline double
mlc_thresh(double G, double alpha)
{
	if (G > alpha)
		return G - alpha;
	if (G < -alpha)
		return G + alpha;
	return 0.0;
}

/* Structure score of stats s: sum over channels of T(G)^2 / (H + lambda) */
static inline double
mlc_score(const MlcGrower *g, const double *s)
{
	double		den = s[g->C] + g->lambda;
	double		sc = 0;

	if (den <= 0)
		return 0.0;
	for (int c = 0; c < g->C; c++)
	{
		double		t = mlc_thresh(s[c], g->alpha);

		sc += t * t;
	}
	return sc / den;
}

/* True when stats s may form a child */
static inline bool
mlc_child_ok(const MlcGrower *g, const double *s)
{
	return s[g->C] >= g->min_child_weight && s[g->C + 1] >= g->min_samples_leaf &&
		s[g->C + 1] > 0;
}

/* Draw the features a split may use (forests: max_features per split) */
static void
mlc_split_features(MlcGrower *g, bool *use)
{
	int			p = g->B->p;

	for (int f = 0; f < p; f++)
		use[f] = g->feat_allowed == NULL || g->feat_allowed[f];
	if (g->split_features > 0 && g->split_features < p)
	{
		int		   *perm = palloc(sizeof(int) * p);

		for (int f = 0; f < p; f++)
			perm[f] = f;
		for (int i = 0; i < g->split_features; i++)
		{
			int			j = i + (int) pg_prng_uint64_range(g->rng, 0, (uint64) (p - 1 - i));
			int			t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		memset(use, 0, sizeof(bool) * p);
		for (int i = 0; i < g->split_features; i++)
			use[perm[i]] = g->feat_allowed == NULL || g->feat_allowed[perm[i]];
		pfree(perm);
	}
}

/* Find the best split of a pending node from its histogram */
static void
mlc_find_split(MlcGrower *g, MlcPending *pn)
{
	const MlcBins *B = g->B;
	int			S = g->S;
	double	   *L = palloc(sizeof(double) * S);
	double	   *Lx = palloc(sizeof(double) * S);
	double	   *Rx = palloc(sizeof(double) * S);
	bool	   *use = palloc(sizeof(bool) * Max(B->p, 1));
	double		parent = mlc_score(g, pn->tot);

	pn->feature = -1;
	pn->gain = 0;
	if (pn->end - pn->begin < 2 ||
		(g->max_depth > 0 && pn->depth >= g->max_depth) || pn->depth >= MLC_TREE_MAX_DEPTH)
		return;
	mlc_split_features(g, use);
	for (int f = 0; f < B->p; f++)
	{
		const double *h = pn->hist + (Size) B->off[f] * S;
		const double *miss = h;

		if (!use[f] || B->nb[f] < 2)
			continue;
		memset(L, 0, sizeof(double) * S);
		for (int b = 1; b < B->nb[f]; b++)
		{
			const double *hb = h + (Size) b * S;

			for (int s = 0; s < S; s++)
				L[s] += hb[s];
			/* missing right, then missing left */
			for (int dir = 0; dir < 2; dir++)
			{
				double		gain;

				if (dir == 1 && miss[S - 1] == 0)
					break;
				for (int s = 0; s < S; s++)
				{
					Lx[s] = L[s] + (dir == 1 ? miss[s] : 0.0);
					Rx[s] = pn->tot[s] - Lx[s];
				}
				if (!mlc_child_ok(g, Lx) || !mlc_child_ok(g, Rx))
					continue;
				gain = mlc_score(g, Lx) + mlc_score(g, Rx) - parent;
				/* near-ties (rounding) keep the earlier feature and bin, as XGBoost does */
				if (gain > pn->gain + 1e-9 * pn->gain && gain > 1e-10 && gain >= g->min_gain)
				{
					pn->gain = gain;
					pn->feature = f;
					pn->split_bin = b;
					pn->default_left = dir == 1;
					memcpy(pn->ltot, Lx, sizeof(double) * S);
				}
			}
		}
	}
	pfree(L);
	pfree(Lx);
	pfree(Rx);
	pfree(use);
}

/* A new node of the tree being grown */
static int32
mlc_new_node(MlcGrower *g, double cover)
{
	if (g->nnodes == g->node_cap)
	{
		g->node_cap *= 2;
		g->nodes = repalloc(g->nodes, sizeof(MlcGNode) * g->node_cap);
	}
	memset(&g->nodes[g->nnodes], 0, sizeof(MlcGNode));
	g->nodes[g->nnodes].feature = -1;
	g->nodes[g->nnodes].left = g->nodes[g->nnodes].right = g->nodes[g->nnodes].leaf = -1;
	g->nodes[g->nnodes].cover = cover;
	return g->nnodes++;
}

/* Make a pending node a leaf: value -T(G)/(H + lambda) * lr per channel */
static void
mlc_make_leaf(MlcGrower *g, MlcPending *pn)
{
	int			C = g->C;

	if (g->nleaves == g->leaf_cap)
	{
		g->leaf_cap *= 2;
		g->leafvals = repalloc(g->leafvals, sizeof(double) * g->leaf_cap * C);
		g->leaf_begin = repalloc(g->leaf_begin, sizeof(int64) * g->leaf_cap);
		g->leaf_end = repalloc(g->leaf_end, sizeof(int64) * g->leaf_cap);
	}
	for (int c = 0; c < C; c++)
	{
		double		den = pn->tot[C] + g->lambda;

		g->leafvals[g->nleaves * C + c] = den > 0 ? -mlc_thresh(pn->tot[c], g->alpha) / den * g->lr : 0.0;
	}
	g->leaf_begin[g->nleaves] = pn->begin;
	g->leaf_end[g->nleaves] = pn->end;
	g->nodes[pn->id].leaf = g->nleaves++;
	mlc_hist_put(g, pn->hist);
	pn->hist = NULL;
}

/* Partition idx[begin..end) by the node's split; returns the first right row */
static int64
mlc_partition(MlcGrower *g, const MlcPending *pn)
{
	int64		nl = pn->begin,
				nr = 0;

	for (int64 i = pn->begin; i < pn->end; i++)
	{
		int32		r = g->idx[i];
		int32		b;
		bool		left;

		if (i + 16 < pn->end)
			__builtin_prefetch(g->B->wide ? (const void *) (g->B->b16 + (Size) g->idx[i + 16] * g->B->p + pn->feature) :
							   (const void *) (g->B->b8 + (Size) g->idx[i + 16] * g->B->p + pn->feature));
		b = mlc_bin_at(g->B, r, pn->feature);
		left = b == 0 ? pn->default_left : b <= pn->split_bin;

		if (left)
			g->idx[nl++] = r;
		else
			g->tmp[nr++] = r;
	}
	memcpy(g->idx + nl, g->tmp, sizeof(int32) * nr);
	return nl;
}

/* A pending child with its stats */
static MlcPending *
mlc_child(MlcGrower *g, int64 begin, int64 end, int depth, const double *tot)
{
	MlcPending *c = palloc(sizeof(MlcPending));

	c->begin = begin;
	c->end = end;
	c->depth = depth;
	c->tot = palloc(sizeof(double) * g->S);
	c->ltot = palloc(sizeof(double) * g->S);
	memcpy(c->tot, tot, sizeof(double) * g->S);
	c->id = mlc_new_node(g, tot[g->C]);
	c->hist = NULL;
	return c;
}

/* Free a pending node once it is a leaf or split (deep trees have many) */
static void
mlc_pending_free(MlcPending *pn)
{
	pfree(pn->tot);
	pfree(pn->ltot);
	pfree(pn);
}

/* Split a pending node into two pending children with their histograms and best splits */
static void
mlc_split_node(MlcGrower *g, MlcPending *pn, MlcPending **lo, MlcPending **hi)
{
	int64		mid = mlc_partition(g, pn);
	double	   *rtot = palloc(sizeof(double) * g->S);
	MlcPending *l,
			   *r,
			   *small,
			   *large;
	MlcGNode   *nd;

	for (int s = 0; s < g->S; s++)
		rtot[s] = pn->tot[s] - pn->ltot[s];
	l = mlc_child(g, pn->begin, mid, pn->depth + 1, pn->ltot);
	r = mlc_child(g, mid, pn->end, pn->depth + 1, rtot);
	nd = &g->nodes[pn->id];
	nd->feature = pn->feature;
	nd->split_bin = pn->split_bin;
	nd->default_left = pn->default_left;
	nd->gain = pn->gain;
	nd->left = l->id;
	nd->right = r->id;
	g->depth = Max(g->depth, pn->depth + 1);
	/* build the smaller child, the larger one is the parent minus it */
	small = (mid - pn->begin <= pn->end - mid) ? l : r;
	large = small == l ? r : l;
	small->hist = mlc_hist_get(g);
	mlc_hist_build(g, small->hist, small->begin, small->end);
	large->hist = pn->hist;
	pn->hist = NULL;
	for (Size k = 0; k < g->hist_len; k++)
		large->hist[k] -= small->hist[k];
	mlc_find_split(g, l);
	mlc_find_split(g, r);
	*lo = l;
	*hi = r;
	pfree(rtot);
}

/*
 * Grow a tree on idx[0..nidx): depth-first when the number of leaves is not
 * limited (every split with enough gain is made, in any order), best-first
 * by gain when max_leaves is set.
 */
void
mlc_grow_tree(MlcGrower *g)
{
	MlcPending **stack;
	int			nstack = 0,
				cap = 64,
				leaves = 1;
	MlcPending *root;
	double	   *tot = palloc0(sizeof(double) * g->S);

	g->nnodes = 0;
	g->nleaves = 0;
	g->depth = 0;
	stack = palloc(sizeof(MlcPending *) * cap);
	{
		/* root stats: any one feature's bins hold every row */
		double	   *h = mlc_hist_get(g);

		mlc_hist_build(g, h, 0, g->nidx);
		if (g->B->p > 0)
			for (int b = 0; b <= g->B->nb[0]; b++)
				for (int s = 0; s < g->S; s++)
					tot[s] += h[(Size) b * g->S + s];
		root = mlc_child(g, 0, g->nidx, 0, tot);
		root->hist = h;
		mlc_find_split(g, root);
	}
	stack[nstack++] = root;
	while (nstack > 0)
	{
		MlcPending *pn;
		int			pick = nstack - 1;
		MlcPending *l,
				   *r;

		CHECK_FOR_INTERRUPTS();
		if (g->max_leaves > 0)
			for (int i = 0; i < nstack; i++)
				if (stack[i]->gain > stack[pick]->gain)
					pick = i;
		pn = stack[pick];
		stack[pick] = stack[--nstack];
		if (pn->feature < 0 || (g->max_leaves > 0 && leaves >= g->max_leaves))
		{
			mlc_make_leaf(g, pn);
			mlc_pending_free(pn);
			continue;
		}
		mlc_split_node(g, pn, &l, &r);
		mlc_pending_free(pn);
		leaves++;
		if (nstack + 2 > cap)
		{
			cap *= 2;
			stack = repalloc(stack, sizeof(MlcPending *) * cap);
		}
		/* depth-first: the right child waits, the left is split next */
		stack[nstack++] = r;
		stack[nstack++] = l;
	}
	pfree(stack);
	pfree(tot);
}

/* Leaf reached by training row r in the tree just grown */
int32
mlc_grown_leaf(const MlcGrower *g, int64 r)
{
	const MlcGNode *nd = &g->nodes[0];

	while (nd->feature >= 0)
	{
		int32		b = mlc_bin_at(g->B, r, nd->feature);
		bool		left = b == 0 ? nd->default_left : b <= nd->split_bin;

		nd = &g->nodes[left ? nd->left : nd->right];
	}
	return nd->leaf;
}

/* ---------- the flat layout ---------- */

void
mlc_flat_init(MlcFlat *fl, int leaf_width)
{
	memset(fl, 0, sizeof(*fl));
	fl->leaf_width = leaf_width;
	fl->node_cap = 1024;
	fl->nodes = palloc(sizeof(double) * MLC_TREE_NODE * fl->node_cap);
	fl->leaf_cap = 512;
	fl->leaves = palloc(sizeof(double) * leaf_width * fl->leaf_cap);
	fl->tree_cap = 64;
	fl->tree_start = palloc(sizeof(int64) * fl->tree_cap);
	fl->tree_group = palloc(sizeof(int) * fl->tree_cap);
}

/* Append the tree just grown, for output group */
void
mlc_flat_add(MlcFlat *fl, const MlcGrower *g, int group)
{
	int64		base = fl->nnodes;
	int64		lbase = fl->nleaves;
	int			lw = fl->leaf_width;

	if (fl->ntrees == fl->tree_cap)
	{
		fl->tree_cap *= 2;
		fl->tree_start = repalloc(fl->tree_start, sizeof(int64) * fl->tree_cap);
		fl->tree_group = repalloc(fl->tree_group, sizeof(int) * fl->tree_cap);
	}
	while (fl->nnodes + g->nnodes > fl->node_cap)
	{
		fl->node_cap *= 2;
		mlc_check_memory(sizeof(double) * MLC_TREE_NODE * fl->node_cap / 2, "trees");
		fl->nodes = repalloc_huge(fl->nodes, sizeof(double) * MLC_TREE_NODE * fl->node_cap);
	}
	while (fl->nleaves + g->nleaves > fl->leaf_cap)
	{
		fl->leaf_cap *= 2;
		fl->leaves = repalloc_huge(fl->leaves, sizeof(double) * lw * fl->leaf_cap);
	}
	fl->tree_start[fl->ntrees] = base;
	fl->tree_group[fl->ntrees++] = group;
	for (int i = 0; i < g->nnodes; i++)
	{
		const MlcGNode *nd = &g->nodes[i];
		double	   *o = fl->nodes + (base + i) * MLC_TREE_NODE;

		o[MLC_TN_FEATURE] = nd->feature;
		o[MLC_TN_THRESHOLD] = nd->feature >= 0 ? g->B->thr[nd->feature][nd->split_bin - 1] : 0.0;
		o[MLC_TN_DEFAULT_LEFT] = nd->feature >= 0 && nd->default_left ? 1 : 0;
		o[MLC_TN_LEFT] = nd->feature >= 0 ? base + nd->left : -1;
		o[MLC_TN_RIGHT] = nd->feature >= 0 ? base + nd->right : -1;
		o[MLC_TN_LEAF] = nd->feature >= 0 ? -1 : lbase + nd->leaf;
		o[MLC_TN_GAIN] = nd->gain;
		o[MLC_TN_COVER] = nd->cover;
	}
	memcpy(fl->leaves + lbase * lw, g->leafvals, sizeof(double) * lw * g->nleaves);
	fl->nnodes += g->nnodes;
	fl->nleaves += g->nleaves;
}

/* Keep only the first ntrees trees (early stopping) */
void
mlc_flat_truncate(MlcFlat *fl, int ntrees)
{
	if (ntrees >= fl->ntrees)
		return;
	fl->nnodes = fl->tree_start[ntrees];
	/* leaves of a tree follow the previous tree's, in order */
	fl->nleaves = 0;
	for (int64 i = 0; i < fl->nnodes; i++)
	{
		double		leaf = fl->nodes[i * MLC_TREE_NODE + MLC_TN_LEAF];

		if (leaf >= 0)
			fl->nleaves = Max(fl->nleaves, (int64) leaf + 1);
	}
	fl->ntrees = ntrees;
}

/* Store the trees in m->learner_params (tree.h layout) */
void
mlc_flat_store(MlcModel *m, const MlcFlat *fl, int ngroups, int combine, const double *base)
{
	int			nout = ngroups * fl->leaf_width;
	int64		n = MLC_TREE_HEADER + nout + 2 * (int64) fl->ntrees +
		MLC_TREE_NODE * fl->nnodes + fl->leaf_width * fl->nleaves;
	double	   *v;

	if (n > MLC_MAX_LEARNER_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the trees need " INT64_FORMAT " values, more than a model holds (%d)",
						n, MLC_MAX_LEARNER_PARAMS),
				 errhint("Use fewer trees (n_estimators), a smaller max_depth or max_leaves, or a larger min_samples_leaf.")));
	v = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n);
	v[0] = MLC_TREE_LAYOUT;
	v[1] = fl->ntrees;
	v[2] = ngroups;
	v[3] = fl->leaf_width;
	v[4] = fl->nnodes;
	v[5] = fl->nleaves;
	v[6] = combine;
	v[7] = m->nfeatures;
	memcpy(v + MLC_TREE_HEADER, base, sizeof(double) * nout);
	for (int t = 0; t < fl->ntrees; t++)
	{
		v[MLC_TREE_HEADER + nout + 2 * t] = fl->tree_start[t];
		v[MLC_TREE_HEADER + nout + 2 * t + 1] = fl->tree_group[t];
	}
	memcpy(v + MLC_TREE_HEADER + nout + 2 * fl->ntrees, fl->nodes,
		   sizeof(double) * MLC_TREE_NODE * fl->nnodes);
	memcpy(v + MLC_TREE_HEADER + nout + 2 * fl->ntrees + MLC_TREE_NODE * fl->nnodes, fl->leaves,
		   sizeof(double) * fl->leaf_width * fl->nleaves);
	m->nlearner_params = n;
	m->learner_params = v;
	m->learner_cache = NULL;
	/* the header check wants coefficient rows; trees keep none, so zeros */
	m->ncoef_rows = (m->task == MLC_TASK_CLASSIFICATION && m->nclasses > 2) ? m->nclasses : 1;
	m->coef = palloc0(sizeof(double) * m->ncoef_rows * (m->nfeatures + 1));
}

/* ---------- scoring ---------- */

/* Views into a validated flat model */
typedef struct MlcTreeView
{
	int			ntrees;
	int			ngroups;
	int			lw;
	int			nout;
	int			combine;
	const double *base;
	const double *trees;
	const double *nodes;
	const double *leaves;
} MlcTreeView;

static inline void
mlc_tree_view(const MlcModel *m, MlcTreeView *v)
{
	const double *p = m->learner_params;

	v->ntrees = (int) p[1];
	v->ngroups = (int) p[2];
	v->lw = (int) p[3];
	v->nout = v->ngroups * v->lw;
	v->combine = (int) p[6];
	v->base = p + MLC_TREE_HEADER;
	v->trees = v->base + v->nout;
	v->nodes = v->trees + 2 * v->ntrees;
	v->leaves = v->nodes + MLC_TREE_NODE * (int64) p[4];
}

/* Number of raw outputs of a tree model */
int
mlc_tree_nout(const MlcModel *m)
{
	return (int) m->learner_params[2] * (int) m->learner_params[3];
}

/*
 * The scoring form of the trees, built once per loaded model: 16-byte nodes,
 * the two children of a split side by side (right = left + 1), so that a
 * model of 100 depth-6 trees fits in the L2 cache.  A split keeps its
 * threshold in value and its feature in meta, with MLC_TC_DEFAULT_LEFT set
 * when missing values go left.  A leaf loops to itself (left = its own slot,
 * threshold +Inf, missing left), so a walk may take more steps than the
 * leaf's depth; its value and leaf index are in leafval and leafidx.
 */
#define MLC_TC_DEFAULT_LEFT		0x40000000
#define MLC_TC_FEATURE			0x3FFFFFFF
#define MLC_TC_LANES			16	/* trees walked in lockstep */
#define MLC_TC_FIXED_DEPTH		12	/* up to this depth every walk takes max_depth steps */

typedef struct MlcTCNode
{
	double		value;
	int32		meta;
	int32		left;
} MlcTCNode;

typedef struct MlcTreeCache
{
	MlcTreeView v;
	MlcTCNode  *nodes;
	double	   *leafval;		/* per slot: the leaf's first value */
	int32	   *leafidx;		/* per slot: the leaf's index */
	int32	   *root;
	int			max_depth;
} MlcTreeCache;

/* Build the scoring form: each tree breadth-first, children adjacent */
static MlcTreeCache *
mlc_tree_cache_build(const MlcModel *m)
{
	MemoryContext cxt = GetMemoryChunkContext(m->learner_params);
	MlcTreeCache *c = MemoryContextAllocZero(cxt, sizeof(MlcTreeCache));
	int64		nnodes = (int64) m->learner_params[4];
	int64	   *queue = palloc(sizeof(int64) * Max(nnodes, 1));
	int		   *depth = palloc(sizeof(int) * Max(nnodes, 1));
	int32		next = 0;

	mlc_tree_view(m, &c->v);
	c->nodes = MemoryContextAllocHuge(cxt, sizeof(MlcTCNode) * Max(nnodes, 1));
	c->leafval = MemoryContextAllocHuge(cxt, sizeof(double) * Max(nnodes, 1));
	c->leafidx = MemoryContextAllocHuge(cxt, sizeof(int32) * Max(nnodes, 1));
	c->root = MemoryContextAlloc(cxt, sizeof(int32) * c->v.ntrees);
	for (int t = 0; t < c->v.ntrees; t++)
	{
		int64		head = 0,
					tail = 0;
		int32		slot;

		/* queue[k] is the flat index of the node put in slot c->root[t] + k */
		c->root[t] = next;
		queue[tail++] = (int64) c->v.trees[2 * t];
		depth[next] = 0;
		next++;
		for (slot = c->root[t]; head < tail; slot++)
		{
			const double *nd = c->v.nodes + queue[head++] * MLC_TREE_NODE;
			MlcTCNode  *o = &c->nodes[slot];

			c->max_depth = Max(c->max_depth, depth[slot]);
			if (nd[MLC_TN_FEATURE] < 0)
			{
				o->meta = MLC_TC_DEFAULT_LEFT;
				o->value = INFINITY;
				o->left = slot;
				c->leafidx[slot] = (int32) nd[MLC_TN_LEAF];
				c->leafval[slot] = c->v.leaves[(int64) c->leafidx[slot] * c->v.lw];
				continue;
			}
			o->meta = (int32) nd[MLC_TN_FEATURE] | (nd[MLC_TN_DEFAULT_LEFT] != 0 ? MLC_TC_DEFAULT_LEFT : 0);
			o->value = nd[MLC_TN_THRESHOLD];
			o->left = next;
			depth[next] = depth[next + 1] = depth[slot] + 1;
			queue[tail++] = (int64) nd[MLC_TN_LEFT];
			queue[tail++] = (int64) nd[MLC_TN_RIGHT];
			next += 2;
		}
	}
	pfree(queue);
	pfree(depth);
	return c;
}

/* The scoring form of a tree model, built on first use (a cache, hence the cast) */
static inline const MlcTreeCache *
mlc_tree_cache(const MlcModel *m)
{
	if (unlikely(m->learner_cache == NULL))
		((MlcModel *) m)->learner_cache = mlc_tree_cache_build(m);
	return (const MlcTreeCache *) m->learner_cache;
}

/* One step from slot i: to a child, or staying on a leaf (no allocation: the model is validated) */
static inline int32
mlc_tree_step(const MlcTCNode *nodes, int32 i, const double *x)
{
	const MlcTCNode *nd = nodes + i;
	double		v = x[nd->meta & MLC_TC_FEATURE];

	/* v > value is false for NaN, !(v <= value) true: the default direction picks one */
	if (nd->meta & MLC_TC_DEFAULT_LEFT)
		return nd->left + (v > nd->value);
	return nd->left + !(v <= nd->value);
}

/* The leaf slot x reaches from slot i */
static inline int32
mlc_tree_leaf(const MlcTCNode *nodes, int32 i, const double *x)
{
	while (nodes[i].left != i)
		i = mlc_tree_step(nodes, i, x);
	return i;
}

/*
 * The leaf slots x reaches in trees t .. t + MLC_TC_LANES - 1, walked in
 * lockstep: the node loads of different trees do not depend on each other,
 * so their cache misses overlap instead of adding up.  Shallow models take a
 * fixed max_depth steps (leaves loop to themselves), without a branch per
 * step; deeper ones step until every lane sits on a leaf.
 */
static inline void
mlc_tree_leaves(const MlcTreeCache *c, int t, const double *x, int32 *lane)
{
	const MlcTCNode *nodes = c->nodes;

	for (int k = 0; k < MLC_TC_LANES; k++)
		lane[k] = c->root[t + k];
	if (c->max_depth <= MLC_TC_FIXED_DEPTH)
	{
		for (int d = 0; d < c->max_depth; d++)
		{
#pragma GCC unroll 16
			for (int k = 0; k < MLC_TC_LANES; k++)
				lane[k] = mlc_tree_step(nodes, lane[k], x);
		}
		return;
	}
	for (int k = 0; k < MLC_TC_LANES; k++)
		lane[k] = mlc_tree_leaf(nodes, lane[k], x);
}

/* The leaf slots of the last n < MLC_TC_LANES trees from t, in lockstep too */
static void
mlc_tree_leaves_rest(const MlcTreeCache *c, int t, int n, const double *x, int32 *lane)
{
	for (int k = 0; k < n; k++)
		lane[k] = c->root[t + k];
	if (c->max_depth <= MLC_TC_FIXED_DEPTH)
	{
		for (int d = 0; d < c->max_depth; d++)
			for (int k = 0; k < n; k++)
				lane[k] = mlc_tree_step(c->nodes, lane[k], x);
		return;
	}
	for (int k = 0; k < n; k++)
		lane[k] = mlc_tree_leaf(c->nodes, lane[k], x);
}

/* Add the leaf at slot of tree t to the raw outputs */
static inline void
mlc_tree_add_leaf(const MlcTreeCache *c, int t, int32 slot, double *raw)
{
	const MlcTreeView *v = &c->v;
	double	   *o = raw + (int) v->trees[2 * t + 1] * v->lw;

	if (v->lw == 1)
		o[0] += c->leafval[slot];
	else
		for (int k = 0; k < v->lw; k++)
			o[k] += v->leaves[(int64) c->leafidx[slot] * v->lw + k];
}

/* Raw outputs: margins per group (gbdt) or the mean of the leaves (forests) */
void
mlc_tree_raw(const MlcModel *m, const double *x, double *raw)
{
	const MlcTreeCache *c = mlc_tree_cache(m);
	const MlcTreeView *v = &c->v;
	int32		lanes[MLC_TC_LANES];
	int			t = 0;

	for (int o = 0; o < v->nout; o++)
		raw[o] = v->combine == MLC_TREE_COMBINE_SUM ? v->base[o] : 0.0;
	if (v->lw == 1 && v->ngroups == 1)
	{
		/* one output: accumulate in a register */
		double		s = raw[0];

		for (; t + MLC_TC_LANES <= v->ntrees; t += MLC_TC_LANES)
		{
			mlc_tree_leaves(c, t, x, lanes);
			for (int k = 0; k < MLC_TC_LANES; k++)
				s += c->leafval[lanes[k]];
		}
		if (t < v->ntrees)
		{
			mlc_tree_leaves_rest(c, t, v->ntrees - t, x, lanes);
			for (int k = 0; k < v->ntrees - t; k++)
				s += c->leafval[lanes[k]];
		}
		raw[0] = s;
	}
	else
	{
		for (; t + MLC_TC_LANES <= v->ntrees; t += MLC_TC_LANES)
		{
			mlc_tree_leaves(c, t, x, lanes);
			for (int k = 0; k < MLC_TC_LANES; k++)
				mlc_tree_add_leaf(c, t + k, lanes[k], raw);
		}
		if (t < v->ntrees)
		{
			mlc_tree_leaves_rest(c, t, v->ntrees - t, x, lanes);
			for (int k = 0; k < v->ntrees - t; k++)
				mlc_tree_add_leaf(c, t + k, lanes[k], raw);
		}
	}
	if (v->combine == MLC_TREE_COMBINE_MEAN)
		for (int o = 0; o < v->nout; o++)
			raw[o] /= v->ntrees;
}

/* Predictions of a preprocessed row: the value, or class probabilities */
void
mlc_tree_predict_features(const MlcModel *m, const double *x, double *out)
{
	double		raw[2];
	double	   *r = m->nclasses > 2 ? out : raw;

	mlc_tree_raw(m, x, r);
	if (m->task == MLC_TASK_REGRESSION)
		out[0] = r[0];
	else if (m->nclasses == 2)
	{
		double		pos = m->learner_params[6] == MLC_TREE_COMBINE_SUM ?
			1.0 / (1.0 + exp(-r[0])) : Min(Max(r[0], 0.0), 1.0);

		out[m->positive_class] = pos;
		out[1 - m->positive_class] = 1.0 - pos;
	}
	else if (m->learner_params[6] == MLC_TREE_COMBINE_SUM)
	{
		double		mx = -INFINITY,
					sum = 0;

		for (int k = 0; k < m->nclasses; k++)
			mx = Max(mx, out[k]);
		for (int k = 0; k < m->nclasses; k++)
		{
			out[k] = exp(out[k] - mx);
			sum += out[k];
		}
		for (int k = 0; k < m->nclasses; k++)
			out[k] /= sum;
	}
}

/* Per-feature total gain, or number of splits */
void
mlc_tree_importance(const MlcModel *m, bool gain, double *per_feature)
{
	MlcTreeView v;
	int64		nnodes = (int64) m->learner_params[4];

	mlc_tree_view(m, &v);
	memset(per_feature, 0, sizeof(double) * m->nfeatures);
	for (int64 i = 0; i < nnodes; i++)
	{
		const double *nd = v.nodes + i * MLC_TREE_NODE;

		if (nd[MLC_TN_FEATURE] >= 0)
			per_feature[(int) nd[MLC_TN_FEATURE]] += gain ? nd[MLC_TN_GAIN] : 1.0;
	}
}

/* ---------- TreeSHAP (Lundberg et al. 2018, algorithm 2) ---------- */

typedef struct MlcPathElem
{
	int			feature;
	double		zero;			/* fraction of the paths where the feature is absent */
	double		one;			/* 1 when x follows this branch, else 0 */
	double		weight;
} MlcPathElem;

typedef struct MlcShapCtx
{
	const double *nodes;
	const double *leaves;
	int			lw;
	const double *x;
	double	   *phi;			/* lw x (nfeatures + 1), for this tree's outputs */
	int			stride;			/* nfeatures + 1 */
	double		scale;			/* 1, or 1 / ntrees for forests */
} MlcShapCtx;

static void
mlc_path_extend(MlcPathElem *m, int d, double zero, double one, int feature)
{
	m[d].feature = feature;
	m[d].zero = zero;
	m[d].one = one;
	m[d].weight = d == 0 ? 1.0 : 0.0;
	for (int i = d - 1; i >= 0; i--)
	{
		m[i + 1].weight += one * m[i].weight * (i + 1) / (double) (d + 1);
		m[i].weight = zero * m[i].weight * (d - i) / (double) (d + 1);
	}
}

static void
mlc_path_unwind(MlcPathElem *m, int d, int pi)
{
	double		one = m[pi].one,
				zero = m[pi].zero,
				next = m[d].weight;

	for (int i = d - 1; i >= 0; i--)
	{
		if (one != 0)
		{
			double		tmp = m[i].weight;

			m[i].weight = next * (d + 1) / ((double) (i + 1) * one);
			next = tmp - m[i].weight * zero * (d - i) / (double) (d + 1);
		}
		else
			m[i].weight = m[i].weight * (d + 1) / (zero * (d - i));
	}
	for (int i = pi; i < d; i++)
	{
		m[i].feature = m[i + 1].feature;
		m[i].zero = m[i + 1].zero;
		m[i].one = m[i + 1].one;
	}
}

static double
mlc_path_unwound_sum(const MlcPathElem *m, int d, int pi)
{
	double		one = m[pi].one,
				zero = m[pi].zero,
				next = m[d].weight,
				total = 0;

	for (int i = d - 1; i >= 0; i--)
	{
		if (one != 0)
		{
			double		tmp = next * (d + 1) / ((double) (i + 1) * one);

			total += tmp;
			next = m[i].weight - tmp * zero * (d - i) / (double) (d + 1);
		}
		else if (zero != 0)
			total += m[i].weight / zero / ((d - i) / (double) (d + 1));
	}
	return total;
}

static void
mlc_shap_recurse(const MlcShapCtx *c, int64 node, MlcPathElem *parent, int d,
				 double pzero, double pone, int pfeature)
{
	const double *nd = c->nodes + node * MLC_TREE_NODE;
	MlcPathElem *m = parent + d + 1;

	memcpy(m, parent, sizeof(MlcPathElem) * (d + 1));
	mlc_path_extend(m, d, pzero, pone, pfeature);
	if (nd[MLC_TN_FEATURE] < 0)
	{
		const double *lv = c->leaves + (int64) nd[MLC_TN_LEAF] * c->lw;

		for (int i = 1; i <= d; i++)
		{
			double		w = mlc_path_unwound_sum(m, d, i) * (m[i].one - m[i].zero) * c->scale;

			for (int k = 0; k < c->lw; k++)
				c->phi[k * c->stride + m[i].feature] += w * lv[k];
		}
		return;
	}
	else
	{
		int			f = (int) nd[MLC_TN_FEATURE];
		double		v = c->x[f];
		int64		left = (int64) nd[MLC_TN_LEFT],
					right = (int64) nd[MLC_TN_RIGHT];
		bool		goes_left = isnan(v) ? nd[MLC_TN_DEFAULT_LEFT] != 0 : v <= nd[MLC_TN_THRESHOLD];
		int64		hot = goes_left ? left : right,
					cold = goes_left ? right : left;
		double		w = nd[MLC_TN_COVER];
		double		hz = w > 0 ? c->nodes[hot * MLC_TREE_NODE + MLC_TN_COVER] / w : 0.5;
		double		cz = w > 0 ? c->nodes[cold * MLC_TREE_NODE + MLC_TN_COVER] / w : 0.5;
		double		izero = 1,
					ione = 1;
		int			pi;

		for (pi = 0; pi <= d; pi++)
			if (m[pi].feature == f)
				break;
		if (pi != d + 1)
		{
			izero = m[pi].zero;
			ione = m[pi].one;
			mlc_path_unwind(m, d, pi);
			d--;
		}
		mlc_shap_recurse(c, hot, m, d + 1, hz * izero, ione, f);
		mlc_shap_recurse(c, cold, m, d + 1, cz * izero, 0, f);
	}
}

/* Cover-weighted mean of the leaves below node i, per leaf channel, into ev */
static void
mlc_tree_expect(const double *nodes, const double *leaves, int lw, int64 i, double *ev)
{
	const double *nd = nodes + i * MLC_TREE_NODE;

	if (nd[MLC_TN_FEATURE] < 0)
	{
		memcpy(ev, leaves + (int64) nd[MLC_TN_LEAF] * lw, sizeof(double) * lw);
		return;
	}
	else
	{
		double	   *l = palloc(sizeof(double) * lw);
		double	   *r = palloc(sizeof(double) * lw);
		double		cl = nodes[(int64) nd[MLC_TN_LEFT] * MLC_TREE_NODE + MLC_TN_COVER];
		double		cr = nodes[(int64) nd[MLC_TN_RIGHT] * MLC_TREE_NODE + MLC_TN_COVER];
		double		tot = cl + cr;

		mlc_tree_expect(nodes, leaves, lw, (int64) nd[MLC_TN_LEFT], l);
		mlc_tree_expect(nodes, leaves, lw, (int64) nd[MLC_TN_RIGHT], r);
		for (int k = 0; k < lw; k++)
			ev[k] = tot > 0 ? (cl * l[k] + cr * r[k]) / tot : (l[k] + r[k]) / 2;
		pfree(l);
		pfree(r);
	}
}

/* TreeSHAP of a row: nout x (nfeatures + 1), the expected value last in each row */
void
mlc_tree_shap(const MlcModel *m, const double *x, double *phi)
{
	MlcTreeView v;
	MlcShapCtx	c;
	int			stride = m->nfeatures + 1;
	int			D = MLC_TREE_MAX_DEPTH + 2;
	MlcPathElem *path = palloc(sizeof(MlcPathElem) * (D + 1) * (D + 2) / 2 + sizeof(MlcPathElem) * D);
	double	   *ev;

	mlc_tree_view(m, &v);
	ev = palloc(sizeof(double) * v.lw);
	memset(phi, 0, sizeof(double) * v.nout * stride);
	for (int o = 0; o < v.nout; o++)
		phi[o * stride + m->nfeatures] = v.combine == MLC_TREE_COMBINE_SUM ? v.base[o] : 0.0;
	c.nodes = v.nodes;
	c.leaves = v.leaves;
	c.lw = v.lw;
	c.x = x;
	c.stride = stride;
	c.scale = v.combine == MLC_TREE_COMBINE_MEAN ? 1.0 / v.ntrees : 1.0;
	for (int t = 0; t < v.ntrees; t++)
	{
		int64		root = (int64) v.trees[2 * t];

		CHECK_FOR_INTERRUPTS();
		c.phi = phi + (int) v.trees[2 * t + 1] * v.lw * stride;
		mlc_shap_recurse(&c, root, path, 0, 1.0, 1.0, -1);
		mlc_tree_expect(v.nodes, v.leaves, v.lw, root, ev);
		for (int k = 0; k < v.lw; k++)
			c.phi[k * stride + m->nfeatures] += ev[k] * c.scale;
	}
	pfree(path);
	pfree(ev);
}

/* Defaults of each tree learner (README "Tree learners") */
void
mlc_tree_defaults(MlcTreeParams *p, int algorithm, int task)
{
	memset(p, 0, sizeof(*p));
	p->algorithm = algorithm;
	p->max_bin = 255;
	p->min_samples_leaf = 1;
	p->seed = 42;
	p->subsample = 1.0;
	p->colsample_bytree = 1.0;
	p->max_features = 1.0;
	p->validation_fraction = 0.1;
	if (algorithm == MLC_ALGO_GBDT)
	{
		p->n_estimators = 100;
		p->learning_rate = 0.3;
		p->max_depth = 6;
		p->min_child_weight = 1.0;
		p->reg_lambda = 1.0;
	}
	else
	{
		p->n_estimators = algorithm == MLC_ALGO_RANDOM_FOREST ? 100 : 1;
		p->learning_rate = 1.0;
		p->max_depth = 0;
		p->bootstrap = algorithm == MLC_ALGO_RANDOM_FOREST;
		/* scikit-learn: sqrt(p) features per split for classification forests */
		p->max_features = (algorithm == MLC_ALGO_RANDOM_FOREST && task == MLC_TASK_CLASSIFICATION) ?
			-1.0 : 1.0;
	}
}
