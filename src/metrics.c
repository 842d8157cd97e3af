/*
 * metrics.c
 *	  Regression and classification metrics computed at training time on the
 *	  test rows (or the training rows when test_size is 0), with the same
 *	  definitions scikit-learn uses.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "metrics.h"

/* Append "name": value, writing null for a value that is not finite */
static void
mlc_json_metric(StringInfo json, const char *name, double value)
{
	if (json->len > 1)
		appendStringInfoString(json, ", ");
	if (isfinite(value))
		appendStringInfo(json, "\"%s\": %.17g", name, value);
	else
		appendStringInfo(json, "\"%s\": null", name);
}

/* r2, mae, mse, rmse as JSON object text; returns r2 */
double
mlc_metrics_regression(const double *y, const double *pred, int64 n, StringInfo json)
{
	double		r2;
	double		mean = 0,
				sse = 0,
				sst = 0,
				sae = 0;

	for (int64 i = 0; i < n; i++)
		mean += y[i];
	mean /= (double) n;
	for (int64 i = 0; i < n; i++)
	{
		double		e = y[i] - pred[i];

		sse += e * e;
		sae += fabs(e);
		sst += (y[i] - mean) * (y[i] - mean);
	}
	appendStringInfoChar(json, '{');
	/* scikit-learn: r2 is 1 for a perfect fit of a constant target, else 0 */
	r2 = sst > 0 ? 1.0 - sse / sst : (sse == 0 ? 1.0 : 0.0);
	mlc_json_metric(json, "r2", r2);
	mlc_json_metric(json, "mae", sae / (double) n);
	mlc_json_metric(json, "mse", sse / (double) n);
	mlc_json_metric(json, "rmse", sqrt(sse / (double) n));
	appendStringInfo(json, ", \"rows\": " INT64_FORMAT "}", n);
	return r2;
}

/* qsort context for mlc_roc_auc */
static const double *mlc_sort_scores;

static int
mlc_cmp_score(const void *a, const void *b)
{
	double		x = mlc_sort_scores[*(const int64 *) a];
	double		y = mlc_sort_scores[*(const int64 *) b];

	return (x > y) - (x < y);
}

/* Area under the ROC curve (Mann-Whitney with average ranks for ties) */
double
mlc_roc_auc(const double *score, const bool *label, int64 n)
{
	int64	   *idx = palloc(sizeof(int64) * n);
	int64		npos = 0;
	double		ranksum = 0;

	for (int64 i = 0; i < n; i++)
	{
		idx[i] = i;
		npos += label[i] ? 1 : 0;
	}
	if (npos == 0 || npos == n)
	{
		pfree(idx);
		return NAN;
	}
	mlc_sort_scores = score;
	qsort(idx, n, sizeof(int64), mlc_cmp_score);
	for (int64 i = 0; i < n;)
	{
		int64		j = i;
		double		avg;

		while (j < n && score[idx[j]] == score[idx[i]])
			j++;
		avg = (double) (i + 1 + j) / 2.0;	/* mean of ranks i+1 .. j */
		for (int64 k = i; k < j; k++)
			if (label[idx[k]])
				ranksum += avg;
		i = j;
	}
	pfree(idx);
	return (ranksum - (double) npos * (double) (npos + 1) / 2.0) /
		((double) npos * (double) (n - npos));
}

/* Predicted class of row i: the most probable (first among ties) */
static int
mlc_argmax(const double *p, int K)
{
	int			best = 0;

	for (int k = 1; k < K; k++)
		if (p[k] > p[best])
			best = k;
	return best;
}

/* precision, recall and f1 of class k from confusion counts, 0 when undefined */
static void
mlc_prf(const int64 *tp, const int64 *npred, const int64 *ntrue, int k,
		double *p, double *r, double *f)
{
	*p = npred[k] > 0 ? (double) tp[k] / (double) npred[k] : 0.0;
	*r = ntrue[k] > 0 ? (double) tp[k] / (double) ntrue[k] : 0.0;
	*f = (*p + *r) > 0 ? 2.0 * *p * *r / (*p + *r) : 0.0;
}

/* accuracy, precision, recall, f1, log_loss and (binary) roc_auc; returns roc_auc (binary) or f1 */
double
mlc_metrics_classification(const int32 *y, const double *proba, int64 n,
						   int K, int positive, StringInfo json)
{
	int64	   *tp = palloc0(sizeof(int64) * K);
	int64	   *npred = palloc0(sizeof(int64) * K);
	int64	   *ntrue = palloc0(sizeof(int64) * K);
	int64		correct = 0;
	double		logloss = 0;
	double		p,
				r,
				f;
	double		score;

	for (int64 i = 0; i < n; i++)
	{
		const double *pi = proba + i * K;
		int			pred = mlc_argmax(pi, K);
		double		sum = 0,
					py;

		if (K == 2)
			pred = pi[positive] > 0.5 ? positive : 1 - positive;
		npred[pred]++;
		ntrue[y[i]]++;
		if (pred == y[i])
		{
			tp[pred]++;
			correct++;
		}
		/* scikit-learn 1.2 clips to [eps, 1 - eps] (eps "auto": float64 epsilon) and renormalizes */
		for (int k = 0; k < K; k++)
			sum += Min(Max(pi[k], DBL_EPSILON), 1 - DBL_EPSILON);
		py = Min(Max(pi[y[i]], DBL_EPSILON), 1 - DBL_EPSILON) / sum;
		logloss -= log(py);
	}
	appendStringInfoChar(json, '{');
	mlc_json_metric(json, "accuracy", (double) correct / (double) n);
	if (K == 2)
	{
		bool	   *label = palloc(sizeof(bool) * n);
		double	   *scores = palloc(sizeof(double) * n);

		mlc_prf(tp, npred, ntrue, positive, &p, &r, &f);
		for (int64 i = 0; i < n; i++)
		{
			label[i] = (y[i] == positive);
			scores[i] = proba[i * K + positive];
		}
		mlc_json_metric(json, "precision", p);
		mlc_json_metric(json, "recall", r);
		mlc_json_metric(json, "f1", f);
		score = mlc_roc_auc(scores, label, n);
		mlc_json_metric(json, "roc_auc", score);
	}
	else
	{
		double		sp = 0,
					sr = 0,
					sf = 0;
		int			nlabels = 0;

		/* macro average over the labels present in the truth or the predictions */
		for (int k = 0; k < K; k++)
		{
			if (ntrue[k] == 0 && npred[k] == 0)
				continue;
			mlc_prf(tp, npred, ntrue, k, &p, &r, &f);
			sp += p;
			sr += r;
			sf += f;
			nlabels++;
		}
		mlc_json_metric(json, "precision", sp / nlabels);
		mlc_json_metric(json, "recall", sr / nlabels);
		mlc_json_metric(json, "f1", sf / nlabels);
		score = sf / nlabels;
	}
	mlc_json_metric(json, "log_loss", logloss / (double) n);
	appendStringInfo(json, ", \"rows\": " INT64_FORMAT "}", n);
	return score;
}
