/*
 * jsonutil.c
 *	  Reads the jsonb options users pass (hyperparams, preprocess) and checks
 *	  names against their valid sets, with errors that list the valid ones.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "jsonutil.h"

/* Members of a jsonb object (error naming what when it is not an object) */
List *
mlc_json_pairs(JsonbContainer *c, const char *what)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	List	   *pairs = NIL;
	MlcJsonPair *cur = NULL;

	if (!JsonContainerIsObject(c))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", what),
				 errhint("Write it as '{\"key\": value, ...}'.")));
	it = JsonbIteratorInit(c);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			cur = palloc0(sizeof(MlcJsonPair));
			cur->key = pnstrdup(v.val.string.val, v.val.string.len);
		}
		else if (tok == WJB_VALUE && cur != NULL)
		{
			cur->value = v;
			pairs = lappend(pairs, cur);
			cur = NULL;
		}
	}
	return pairs;
}

/* Members of a top-level jsonb value */
List *
mlc_jsonb_pairs(Jsonb *j, const char *what)
{
	if (j == NULL)
		return NIL;
	return mlc_json_pairs(&j->root, what);
}

/* A member's value as a string, or an error naming the key */
char *
mlc_json_string(const MlcJsonPair *p, const char *what)
{
	if (p->value.type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be a string", what, p->key),
				 errhint("Quote the value, as in {\"%s\": \"...\"}.", p->key)));
	return pnstrdup(p->value.val.string.val, p->value.val.string.len);
}

/* A member's value as a finite number, or an error naming the key */
double
mlc_json_number(const MlcJsonPair *p, const char *what)
{
	double		d;

	if (p->value.type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be a number", what, p->key),
				 errhint("Write a JSON number without quotes, as in {\"%s\": 1}.", p->key)));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(p->value.val.numeric)));
	if (isnan(d) || isinf(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be a finite number", what, p->key),
				 errhint("NaN and Infinity are not valid settings.")));
	return d;
}

/* "a, b, c" from a NULL-terminated list */
char *
mlc_join_names(const char *const *names)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; names[i] != NULL; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", names[i]);
	return buf.data;
}

/* Index of s in a NULL-terminated list of names, or an error listing them */
int
mlc_choose(const char *s, const char *const *valid, const char *what)
{
	for (int i = 0; valid[i] != NULL; i++)
		if (strcmp(s, valid[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s \"%s\"", what, s),
			 errhint("Valid values are: %s.", mlc_join_names(valid))));
	return -1;					/* keep compiler quiet */
}
