#include "adminkey.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define KEY_BYTES 32

/* Reads the whole key file into out (cap bytes); drops one trailing "\n"
 * or "\r\n". Returns 0, -ENOENT when missing, or -1 with err set. */
static int read_key(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	size_t n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "admin key file %s: %s", path, strerror(errno));
		return -1;
	}
	while ((r = read(fd, out + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			close(fd);
			snprintf(err, errlen, "admin key file %s: longer than %zu bytes", path,
			         cap - 2);
			return -1;
		}
	}
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "admin key file %s: %s", path, strerror(errno));
		return -1;
	}
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "admin key file %s is empty", path);
		return -1;
	}
	if (strlen(out) != n || strchr(out, '\n')) {
		snprintf(err, errlen, "admin key file %s: want one line of text", path);
		return -1;
	}
	return 0;
}

/* Creates path with a fresh random key. O_EXCL so that two daemons started
 * at once on one database cannot end up with different keys: the loser
 * gets -EEXIST and reads the winner's. */
static int create_key(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	unsigned char raw[KEY_BYTES];
	char hex[2 * KEY_BYTES + 2];
	size_t len;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return -EEXIST;
		snprintf(err, errlen, "cannot create admin key file %s: %s", path, strerror(errno));
		return -1;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	len = strlen(hex);
	hex[len] = '\n';
	if (write(fd, hex, len + 1) != (ssize_t)(len + 1) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write admin key file %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	hex[len] = '\0';
	if (len >= cap) {
		snprintf(err, errlen, "admin key buffer too small");
		return -1;
	}
	memcpy(out, hex, len + 1);
	sodium_memzero(hex, sizeof(hex));
	return 0;
}

int adminkey_resolve(struct config *cfg, enum adminkey_source *source, char *path, size_t pathlen,
                     char *err, size_t errlen)
{
	char key[sizeof(cfg->admin_key) + 1];
	int rc;

	if (cfg->admin_key_file[0]) {
		rc = read_key(cfg->admin_key_file, key, sizeof(key), err, errlen);
		if (rc == -ENOENT)
			snprintf(err, errlen, "admin key file %s does not exist",
			         cfg->admin_key_file);
		if (rc != 0)
			return -1;
		memcpy(cfg->admin_key, key, strlen(key) + 1);
		snprintf(path, pathlen, "%s", cfg->admin_key_file);
		*source = ADMINKEY_FROM_FILE;
		sodium_memzero(key, sizeof(key));
		return 0;
	}
	if (cfg->admin_key[0]) {
		if (pathlen)
			path[0] = '\0';
		*source = ADMINKEY_FROM_ENV;
		return 0;
	}
	if (strncmp(cfg->db_path, "postgresql://", 13) == 0 ||
	    strncmp(cfg->db_path, "postgres://", 11) == 0) {
		snprintf(err, errlen,
		         "with a PostgreSQL database, give the admin key with --admin-key-file or "
		         "SIBYL_ADMIN_KEY (every sibyld of the database needs the same one)");
		return -1;
	}
	if ((size_t)snprintf(path, pathlen, "%s.admin-key", cfg->db_path) >= pathlen) {
		snprintf(err, errlen, "admin key file path too long");
		return -1;
	}
	rc = read_key(path, key, sizeof(key), err, errlen);
	if (rc == -ENOENT) {
		rc = create_key(path, key, sizeof(key), err, errlen);
		if (rc == 0) {
			*source = ADMINKEY_GENERATED;
		} else if (rc == -EEXIST) {
			rc = read_key(path, key, sizeof(key), err, errlen);
			*source = ADMINKEY_FROM_DB_FILE;
		}
	} else {
		*source = ADMINKEY_FROM_DB_FILE;
	}
	if (rc != 0)
		return -1;
	memcpy(cfg->admin_key, key, strlen(key) + 1);
	sodium_memzero(key, sizeof(key));
	return 0;
}

int adminkey_equal(const char *a, const char *b)
{
	size_t la, lb;
	int same_len, same;
	if (!a || !b)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	/* A wrong length still does the full comparison (of b with itself), so
	 * that the time taken does not tell a caller the key's length. */
	same_len = la == lb;
	same = sodium_memcmp(same_len ? a : b, b, lb) == 0;
	return same_len & same;
}
