/* pg_stub.c: placeholder until the PostgreSQL backend lands. */
#include "store_backend.h"

const struct store_ops pg_store_ops = {.name = "postgresql"};

struct store *pg_open(const char *url, int pool, struct err *e)
{
	(void)url;
	(void)pool;
	err_set(e, ERR_UNIMPLEMENTED, "store: PostgreSQL is not built in");
	return NULL;
}

void pg_audit_attach(const struct store_audit *a)
{
	(void)a;
}

int64_t pg_audit_detach(void)
{
	return 0;
}
