/* static.c: files under the web directory.
 *
 * Traversal defence in two steps. First the path is checked as text: no
 * encoded '/', '\' or NUL, no backslash, no empty, "." or ".." segment
 * (400). Then the decoded path is joined to the web root, resolved with
 * realpath, and must still lie inside the root (403 otherwise, e.g. a
 * symlink pointing out). Only regular files are served; "/" and paths
 * ending in "/" mean index.html there. Responses carry a weak ETag from
 * size and modification time (If-None-Match gives 304) and Cache-Control:
 * no-cache, so browsers revalidate and never run a stale module.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handlers.h"

#define STATIC_MAX_FILE (64L * 1024 * 1024)

static const struct {
  const char *ext;
  const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"wasm", "application/wasm"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"ico", "image/x-icon"},
    {"webp", "image/webp"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
};

static const char *mime_type(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (dot)
    for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
      if (strcasecmp(dot + 1, mime_types[i].ext) == 0) return mime_types[i].type;
  return "application/octet-stream";
}

/* 0 if every segment of a decoded absolute path is a plain name. */
static int check_segments(const char *p) {
  if (p[0] != '/') return -1;
  for (const char *s = p + 1;;) {
    size_t n = strcspn(s, "/");
    if (s[n] == '\0' && n == 0) return 0; /* trailing slash */
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return -1;
    if (s[n] == '\0') return 0;
    s += n + 1;
  }
}

static int bad_escape(const char *raw) {
  for (const char *p = strchr(raw, '%'); p; p = strchr(p + 1, '%')) {
    if (strncasecmp(p, "%2f", 3) == 0 || strncasecmp(p, "%5c", 3) == 0 || strncmp(p, "%00", 3) == 0) return 1;
  }
  return 0;
}

static int inside(const char *root, const char *resolved) {
  size_t n = strlen(root);
  return strncmp(root, resolved, n) == 0 && (resolved[n] == '/' || resolved[n] == '\0');
}

static int read_all(int fd, fc_buf *out, size_t size) {
  size_t got = 0;
  fc_buf_reset(out);
  while (got < size) {
    char chunk[16384];
    size_t want = size - got < sizeof chunk ? size - got : sizeof chunk;
    ssize_t r = read(fd, chunk, want);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1; /* error, or the file shrank under us */
    fc_buf_append(out, chunk, (size_t)r);
    got += (size_t)r;
  }
  return fc_buf_failed(out) ? -1 : 0;
}

/* Opens the resolved file; fills *st. The descriptor, or why not (a
 * negative status). */
static int open_file(const gw_app *app, const char *decoded, gw_response *res, struct stat *st) {
  char joined[PATH_MAX], resolved[PATH_MAX];
  size_t n = strlen(decoded);
  int w = snprintf(joined, sizeof joined, "%s%s%s", app->web_root, decoded, decoded[n - 1] == '/' ? "index.html" : "");
  if (w < 0 || (size_t)w >= sizeof joined) return gw_fail(res, GW_EPATH_LONG, "path too long");
  if (!realpath(joined, resolved)) return gw_fail(res, GW_ENOTFOUND, "no such file");
  if (!inside(app->web_root, resolved)) return gw_fail(res, GW_EFORBIDDEN, "path leaves the web directory");
  int fd = open(resolved, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > STATIC_MAX_FILE) {
    if (fd >= 0) close(fd);
    return gw_fail(res, GW_ENOTFOUND, "no such file");
  }
  return fd;
}

GW_HANDLER(gw_handle_static) {
  (void)call;
  char decoded[GW_MAX_HEAD];
  struct stat st;
  if (!app->web_root) return gw_fail(res, GW_ENOTFOUND, "no web directory configured");
  if (bad_escape(req->path) || strchr(req->path, '\\') ||
      gw_url_decode(req->path, strlen(req->path), decoded, sizeof decoded, 0) < 0 || strchr(decoded, '\\') ||
      check_segments(decoded) != 0)
    return gw_fail(res, GW_EPATH, "path is not a plain file path");
  int fd = open_file(app, decoded, res, &st), rc = 0;
  if (fd < 0) return fd;
  char etag[96];
  snprintf(etag, sizeof etag, "W/\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
           (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
  gw_response_header(res, "ETag", etag);
  gw_response_header(res, "Cache-Control", "no-cache");
  gw_response_header(res, "X-Content-Type-Options", "nosniff");
  const char *inm = gw_request_header(req, "if-none-match");
  if (inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL)) {
    res->status = 304;
  } else if (read_all(fd, &res->body, (size_t)st.st_size) != 0) {
    fc_buf_reset(&res->headers);
    rc = gw_fail(res, GW_EINTERNAL, "cannot read file");
  } else {
    res->status = 200;
    res->content_type = mime_type(decoded[strlen(decoded) - 1] == '/' ? "index.html" : decoded);
  }
  close(fd);
  return rc;
}
