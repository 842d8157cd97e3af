/*
 * metric_agg.h
 *	  Transition-state layouts of the evaluation-metric aggregates
 *	  (src/metric_agg.c): a self-describing bytea for label-based metrics
 *	  (also the serial form of the ranking metrics' internal state) and a
 *	  float8[] of moments for regression metrics.
 */
#ifndef MLCYCLE_METRIC_AGG_H
#define MLCYCLE_METRIC_AGG_H

#include "postgres.h"

/*
 * bytea state: an MlcMStateHeader, then the positive-label key (pos_len
 * bytes), the label area (labels_cap bytes, labels_len in use: per label a
 * uint32 length and its key, in the order first seen, so a label's slot is
 * its position), then the payload (cap bytes, used in use).  Fields are
 * native-endian and read with memcpy: no alignment is assumed.  Every entry
 * point validates the header and sizes; combine and final functions also
 * validate every label and payload value.
 */
#define MLC_MSTATE_MAGIC		0x4D434C4D	/* "MLCM" */
#define MLC_MSTATE_VERSION		1

/* payload kinds */
#define MLC_PAY_CONFUSION		1	/* int64 counts[truth slot * kcap + predicted slot] */
#define MLC_PAY_RANKED			2	/* int64 count per label slot, then each slot's
										 * float8 scores, highest first (the serial
										 * form of the ranking aggregates' state) */
#define MLC_PAY_PROB			3	/* per label slot: MLC_PROB_NVALS float8 sums */
#define MLC_PAY_CALIB			4	/* per bin, per label slot: count, sum, compensation */

/* label kinds: how keys are compared, sorted and printed */
#define MLC_LK_BOOL				1	/* 1 byte, 0 or 1 */
#define MLC_LK_INT				2	/* int64 (int2, int4, int8) */
#define MLC_LK_FLOAT8			3	/* finite float8, never -0 (float8, numeric) */
#define MLC_LK_FLOAT4			4	/* as MLC_LK_FLOAT8, printed as float4 */
#define MLC_LK_TEXT				5	/* bytes of the text form, sorted bytewise */

/* header flags */
#define MLC_MS_HAS_POS			0x01	/* pos_label was given */

/* averages, stored as 1 + index; 0 means "not given" */
#define MLC_AVG_BINARY			1
#define MLC_AVG_MACRO			2
#define MLC_AVG_MICRO			3
#define MLC_AVG_WEIGHTED		4

/* limits */
#define MLC_METRIC_MAX_LABELS	1024	/* distinct labels of a confusion matrix */
#define MLC_METRIC_MAX_LABEL_LEN 8192	/* bytes of one label key */
#define MLC_METRIC_MAX_BINS		10000	/* calibration bins */
#define MLC_METRIC_MAX_POINTS	10000000	/* points of a curve */

typedef struct MlcMStateHeader
{
	uint32		magic;
	uint8		version;
	uint8		payload;		/* MLC_PAY_* */
	uint8		kind;			/* MLC_LK_* */
	uint8		flags;			/* MLC_MS_* */
	uint8		average;		/* confusion: MLC_AVG_* or 0 */
	uint8		reserved8[3];
	uint32		nlabels;		/* labels seen (at least 1) */
	uint32		kcap;			/* confusion: matrix stride */
	uint32		param;			/* calibration: bins */
	uint32		pos_len;		/* bytes of the positive-label key */
	uint32		labels_len;		/* bytes of the label area in use */
	uint32		labels_cap;		/* bytes of the label area */
	uint32		reserved32;
	uint64		used;			/* bytes of the payload in use */
	uint64		cap;			/* bytes of the payload */
} MlcMStateHeader;


/* per label slot of MLC_PAY_PROB: count, then four (sum, compensation) pairs */
#define MLC_PROB_COUNT			0
#define MLC_PROB_LOSS_POS		1	/* log loss if the slot is the positive class */
#define MLC_PROB_LOSS_NEG		3	/* log loss if it is the negative class */
#define MLC_PROB_SQ_POS			5	/* (1 - p)^2 */
#define MLC_PROB_SQ_NEG			7	/* p^2 */
#define MLC_PROB_NVALS			9

/* per bin of MLC_PAY_CALIB: (count, sum, compensation) for slot 0, then slot 1 */
#define MLC_CALIB_NVALS			6

/*
 * float8[] state of the regression aggregates: count, mean and centered sum
 * of squares of y and of the residual y - pred (Welford per row, Chan et al.
 * when combining), and compensated (Neumaier) sums of |residual| and of the
 * absolute percentage error.
 */
#define MLC_REG_N				0
#define MLC_REG_MEAN_Y			1
#define MLC_REG_M2_Y			2
#define MLC_REG_MEAN_E			3
#define MLC_REG_M2_E			4
#define MLC_REG_ABS				5
#define MLC_REG_ABS_C			6
#define MLC_REG_APE				7
#define MLC_REG_APE_C			8
#define MLC_REG_NVALS			9

#endif							/* MLCYCLE_METRIC_AGG_H */
