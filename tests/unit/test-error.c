#include "error.h"
#include "test.h"

int main(void)
{
	struct err e;
	ASSERT_EQ_INT(err_set(&e, ERR_NOT_FOUND, "study %s not found", "owners/a/studies/x"),
	              -(int)ERR_NOT_FOUND);
	ASSERT_EQ_STR(e.msg, "study owners/a/studies/x not found");
	ASSERT_EQ_INT(err_http_status(ERR_NOT_FOUND), 404);
	ASSERT_EQ_STR(err_status_name(ERR_NOT_FOUND), "NOT_FOUND");
	ASSERT_EQ_INT(err_http_status(ERR_FAILED_PRECONDITION), 400);
	ASSERT_EQ_INT(err_http_status(ERR_RESOURCE_EXHAUSTED), 429);
	ASSERT_EQ_INT(err_http_status(ERR_UNIMPLEMENTED), 501);
	ASSERT_EQ_INT(err_rpc_code(ERR_UNAUTHENTICATED), 16);
	ASSERT_EQ_STR(err_status_name((enum err_code)999), "INTERNAL");
	ASSERT_EQ_INT(err_set(NULL, ERR_ABORTED, "x"), -(int)ERR_ABORTED);
	/* A typed refusal carries its kind, name and value beside the text;
	 * err_set of another error clears them. */
	ASSERT_EQ_INT(err_refuse(&e, ERR_RESOURCE_EXHAUSTED, ERR_REFUSAL_QUOTA, "maxStudies", 3,
	                         "quota %s reached", "maxStudies"),
	              -(int)ERR_RESOURCE_EXHAUSTED);
	ASSERT_EQ_INT(e.refusal, ERR_REFUSAL_QUOTA);
	ASSERT_EQ_STR(e.name, "maxStudies");
	ASSERT_EQ_INT(e.limit, 3);
	ASSERT_EQ_STR(e.msg, "quota maxStudies reached");
	err_set(&e, ERR_NOT_FOUND, "gone");
	ASSERT_EQ_INT(e.refusal, ERR_REFUSAL_NONE);
	ASSERT_TRUE(e.name == NULL);
	ASSERT_EQ_INT(e.limit, 0);
	ASSERT_EQ_INT(err_refuse(NULL, ERR_ABORTED, ERR_REFUSAL_CONFLICT, NULL, 0, "x"),
	              -(int)ERR_ABORTED);
	return test_done("test-error");
}
