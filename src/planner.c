/*
 * planner.c
 *	  Planner support for ml_predict, ml_predict_class and ml_predict_proba:
 *	  a call on a table's whole row becomes a call on the table's columns
 *	  (mlcycle.predict_columns and its class and proba forms), so the executor
 *	  neither builds the row nor takes it apart again.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(mlcycle_predict_support);

/*
 * Does the query have no outer join?  Then a table's whole row is never the
 * NULL an outer join makes, and its columns stand for it.
 */
static bool
mlc_no_outer_join(Query *parse)
{
	ListCell   *lc;

	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_JOIN && rte->jointype != JOIN_INNER)
			return false;
	}
	return true;
}

/*
 * The columns form of a scoring function called with nargs arguments (by
 * its name), or InvalidOid: (project, names, VARIADIC columns), or for the
 * calls routed by a key (ml_predict(project, row, key) and the like,
 * mlcycle.score_row) (project, key, names, VARIADIC columns)
 */
static Oid
mlc_columns_function(Oid funcid, int nargs, bool *keyed)
{
	static const char *const names[][3] = {
		{"ml_predict", "predict_columns", "predict_routed_columns"},
		{"ml_predict_class", "predict_class_columns", "predict_class_routed_columns"},
		{"ml_predict_proba", "predict_proba_columns", "predict_proba_routed_columns"},
		{"score_row", NULL, "score_row_columns"}};
	char	   *name = get_func_name(funcid);
	const char *target = NULL;
	Oid			argtypes[4] = {TEXTOID, TEXTARRAYOID, ANYOID};

	*keyed = nargs == 3;
	if (name == NULL || nargs < 2 || nargs > 3)
		return InvalidOid;
	for (int i = 0; i < (int) lengthof(names); i++)
		if (strcmp(name, names[i][0]) == 0)
			target = names[i][*keyed ? 2 : 1];
	if (target == NULL)
		return InvalidOid;
	if (*keyed)
	{
		argtypes[1] = ANYOID;
		argtypes[2] = TEXTARRAYOID;
		argtypes[3] = ANYOID;
	}
	return LookupFuncName(list_make2(makeString("mlcycle"), makeString(pstrdup(target))),
						  nargs + 1, argtypes, true);
}

/*
 * The arguments of the columns form for the whole row of rel (Var var):
 * project, the key (when not NULL), the column names, then one Var per
 * column; NIL when the table has more columns than a call can take.
 */
static List *
mlc_columns_args(Node *project, Node *key, Var *var, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *vars = NIL;
	Datum	   *names = palloc(sizeof(Datum) * Max(desc->natts, 1));
	int			n = 0;

	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attisdropped)
			continue;
		names[n++] = CStringGetTextDatum(NameStr(att->attname));
		vars = lappend(vars, makeVar(var->varno, att->attnum, att->atttypid, att->atttypmod,
									 att->attcollation, 0));
	}
	if (n == 0 || n > FUNC_MAX_ARGS - (key ? 3 : 2))
		return NIL;
	vars = lcons(makeConst(TEXTARRAYOID, -1, InvalidOid, -1,
						   PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT)),
						   false, false),
				 vars);
	if (key)
		vars = lcons(key, vars);
	return lcons(project, vars);
}

/*
 * mlcycle.predict_support(internal): the SupportRequestSimplify of
 * ml_predict(project, t [, key]), its class and proba forms and
 * mlcycle.score_row(project, t, key), where t is the whole row of a table in
 * a query without outer joins or GROUP BY: the call on t's columns.
 * Anything else is left as it is.
 */
Datum
mlcycle_predict_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *call;
	Var		   *var;
	Query	   *parse;
	RangeTblEntry *rte;
	Relation	rel;
	List	   *args = NIL;
	Oid			fn;
	bool		keyed;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	call = req->fcall;
	if (req->root == NULL || list_length(call->args) < 2)
		PG_RETURN_POINTER(NULL);
	var = (Var *) lsecond(call->args);
	if (!IsA(var, Var) || var->varattno != InvalidAttrNumber || var->varlevelsup != 0)
		PG_RETURN_POINTER(NULL);
	parse = req->root->parse;
	if (parse->groupClause != NIL || parse->groupingSets != NIL || !mlc_no_outer_join(parse) ||
		var->varno < 1 || var->varno > list_length(parse->rtable))
		PG_RETURN_POINTER(NULL);
	rte = rt_fetch(var->varno, parse->rtable);
	if (rte->rtekind != RTE_RELATION)
		PG_RETURN_POINTER(NULL);
	fn = mlc_columns_function(call->funcid, list_length(call->args), &keyed);
	if (!OidIsValid(fn))
		PG_RETURN_POINTER(NULL);
	/* the planner holds a lock on the relation */
	rel = table_open(rte->relid, NoLock);
	if (var->vartype == rel->rd_rel->reltype)
		args = mlc_columns_args(linitial(call->args), keyed ? lthird(call->args) : NULL, var, rel);
	table_close(rel, NoLock);
	if (args == NIL)
		PG_RETURN_POINTER(NULL);
	call = makeFuncExpr(fn, call->funcresulttype, args, call->funccollid, call->inputcollid,
						COERCE_EXPLICIT_CALL);
	PG_RETURN_POINTER(call);
}
