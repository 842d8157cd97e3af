/*
 * tree_layout.h
 *	  The flat layout of tree models in MlcModel.learner_params, shared by
 *	  the tree learners (tree.c) and the model reader's checks (model_io.c).
 */
#ifndef MLCYCLE_TREE_LAYOUT_H
#define MLCYCLE_TREE_LAYOUT_H

/*
 * Flat layout of learner_params (all float8):
 *	 header		MLC_TREE_HEADER values: layout, ntrees, ngroups, leaf_width,
 *				nnodes, nleaves, combine, nfeatures
 *	 base		nout values, nout = ngroups * leaf_width: the starting margin
 *				per output (gbdt), zeros for forests
 *	 trees		ntrees x 2: first node, output group
 *	 nodes		nnodes x MLC_TREE_NODE: feature (-1 for a leaf), threshold,
 *				default_left, left, right, leaf (index or -1), gain, cover
 *	 leaves		nleaves x leaf_width values
 * A row goes left when x <= threshold, or when x is missing (NaN) and
 * default_left is 1.  Children come after their parent within the tree.
 * combine 0 sums the trees of each group onto base (gbdt, margins);
 * combine 1 averages the trees (forests, values or probabilities).
 */
#define MLC_TREE_LAYOUT			1
#define MLC_TREE_HEADER			8
#define MLC_TREE_NODE			8
#define MLC_TREE_MAX_DEPTH		64
#define MLC_TREE_MAX_TREES		1000000

#define MLC_TN_FEATURE			0
#define MLC_TN_THRESHOLD		1
#define MLC_TN_DEFAULT_LEFT		2
#define MLC_TN_LEFT				3
#define MLC_TN_RIGHT			4
#define MLC_TN_LEAF				5
#define MLC_TN_GAIN				6
#define MLC_TN_COVER			7

#define MLC_TREE_COMBINE_SUM	0
#define MLC_TREE_COMBINE_MEAN	1

#endif							/* MLCYCLE_TREE_LAYOUT_H */
