/* rawhttp: plain sockets to the daemon, for what curl will not send
 * (conflicting headers, raw bytes in the path, requests left unfinished).
 * Loopback only; every wait is bounded. */
#ifndef SIBYL_RAWHTTP_H
#define SIBYL_RAWHTTP_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double raw_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A connection to 127.0.0.1:port from the address src ("127.0.0.2"; NULL:
 * any). rcvbuf > 0 shrinks the receive buffer first (an answer then stays
 * unsent until read). -1 on failure. */
static inline int raw_connect_from(const char *src, int port, int rcvbuf)
{
	struct sockaddr_in a = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (src) {
		struct sockaddr_in b = {0};
		b.sin_family = AF_INET;
		inet_pton(AF_INET, src, &b.sin_addr);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) != 0) {
			close(fd);
			return -1;
		}
	}
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int raw_connect(int port)
{
	return raw_connect_from(NULL, port, 0);
}

/* Sends n bytes (MSG_NOSIGNAL); 0, or -1 when the peer is gone. */
static inline int raw_send(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static inline int raw_sends(int fd, const char *s)
{
	return raw_send(fd, s, strlen(s));
}

/* Reads one answer (headers, then Content-Length bytes) into buf within
 * timeout_ms. Returns its status code; 0 on timeout, -1 when the peer
 * closed or reset first. *body points at the body in buf. */
static inline int raw_answer(int fd, char *buf, size_t cap, int timeout_ms, const char **body)
{
	size_t n = 0;
	double end = raw_now_ms() + timeout_ms;
	*body = "";
	buf[0] = '\0';
	for (;;) {
		char *h = strstr(buf, "\r\n\r\n");
		if (h) {
			const char *cl = strstr(buf, "Content-Length:");
			size_t want = cl && cl < h ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
			if (n - (size_t)(h + 4 - buf) >= want || n + 1 >= cap) {
				*body = h + 4;
				int st = 0;
				sscanf(buf, "HTTP/1.%*d %d", &st);
				return st;
			}
		}
		int left = (int)(end - raw_now_ms());
		if (left <= 0 || n + 1 >= cap)
			return 0;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, left) <= 0)
			continue;
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
	}
}

/* 1 when the peer closed (or reset) fd within timeout_ms, reading and
 * dropping whatever it sent first; 0 when it is still open. */
static inline int raw_closed(int fd, int timeout_ms)
{
	char b[4096];
	double end = raw_now_ms() + timeout_ms;
	for (;;) {
		int left = (int)(end - raw_now_ms());
		struct pollfd p = {fd, POLLIN, 0};
		if (left < 0)
			left = 0;
		int rc = poll(&p, 1, left);
		if (rc == 0)
			return 0;
		if (rc < 0 && errno == EINTR)
			continue;
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
		if (left == 0)
			return 0;
	}
}

/* The daemon's resident memory (VmRSS), in kB; -1 when unreadable. */
static inline long raw_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return kb;
}

#endif
