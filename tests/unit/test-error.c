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
	return test_done("test-error");
}
