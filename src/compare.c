/*
 * compare.c
 *	  Statistics for comparing models: the paired t-test over cross-validation
 *	  fold scores behind ml_compare_models, with an exact Student t
 *	  distribution (drift_stats.c's regularized incomplete beta function).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"

#include "drift_stats.h"

PG_FUNCTION_INFO_V1(mlcycle_paired_ttest);

/* Two-sided p-value of Student's t with df degrees of freedom */
static double
mlc_t_two_sided(double t, double df)
{
	if (isnan(t))
		return NAN;
	if (isinf(t))
		return 0;
	return mlc_beta_inc(df / 2.0, 0.5, df / (df + t * t));
}

/* The elements of a float8[] without NULLs, or an error naming the argument */
static double *
mlc_scores_arg(ArrayType *a, const char *name, int *n)
{
	Datum	   *e;
	bool	   *nulls;
	double	   *v;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", name),
				 errhint("Pass one score per fold.")));
	deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &e, &nulls, n);
	v = palloc(sizeof(double) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i] || !isfinite(DatumGetFloat8(e[i])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("score %d of %s is NULL or not finite", i + 1, name),
					 errhint("Every fold needs a finite score.")));
		v[i] = DatumGetFloat8(e[i]);
	}
	return v;
}

/*
 * mlcycle.paired_ttest(a float8[], b float8[]) -> (mean_difference, t, df,
 * p_value): Student's paired t-test of a - b (scipy.stats.ttest_rel), two
 * sided.  Equal differences give t = +-Infinity and p 0, or NaN when all are 0.
 */
Datum
mlcycle_paired_ttest(PG_FUNCTION_ARGS)
{
	int			na,
				nb;
	double	   *a = mlc_scores_arg(PG_GETARG_ARRAYTYPE_P(0), "a", &na);
	double	   *b = mlc_scores_arg(PG_GETARG_ARRAYTYPE_P(1), "b", &nb);
	double		mean = 0,
				ss = 0,
				sd,
				t;
	int			df;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false};

	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("paired scores differ in length: %d and %d", na, nb),
				 errhint("Pass one score per fold of the same folds.")));
	if (na < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a paired t-test needs at least 2 pairs, got %d", na),
				 errhint("Cross-validate with cv => 5 or more folds.")));
	for (int i = 0; i < na; i++)
		mean += a[i] - b[i];
	mean /= na;
	for (int i = 0; i < na; i++)
		ss += (a[i] - b[i] - mean) * (a[i] - b[i] - mean);
	sd = sqrt(ss / (na - 1));
	df = na - 1;
	if (sd > 0)
		t = mean / (sd / sqrt((double) na));
	else
		t = mean == 0 ? NAN : (mean > 0 ? INFINITY : -INFINITY);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "mlcycle.paired_ttest: return type must be a row type");
	values[0] = Float8GetDatum(mean);
	values[1] = Float8GetDatum(t);
	values[2] = Int32GetDatum(df);
	values[3] = Float8GetDatum(mlc_t_two_sided(t, df));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
