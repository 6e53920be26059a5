/* status.c: the status table and the helpers that fill fc_err. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *fc_status_name(int code) {
  switch (code) {
#define FC__STATUS_NAME(name, c, text) \
  case c: return #name;
    FC_STATUS_MAP(FC__STATUS_NAME)
#undef FC__STATUS_NAME
  }
  return "EUNKNOWN";
}

const char *fc_strerror(int code) {
  switch (code) {
#define FC__STATUS_TEXT(name, c, text) \
  case c: return text;
    FC_STATUS_MAP(FC__STATUS_TEXT)
#undef FC__STATUS_TEXT
  }
  return "unknown error";
}

void fc_err_clear(fc_err *err) {
  if (err == NULL) return;
  err->code = FC_OK;
  err->msg[0] = '\0';
}

int fc_err_set(fc_err *err, int code, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* Prefixes the existing message, so that an inner "not a decimal" becomes
 * "line 7: amount: not a decimal" as the error travels outward. */
int fc_err_prefix(fc_err *err, int code, const char *fmt, ...) {
  char prefix[160];
  char rest[FC_ERR_MSG_MAX];
  va_list ap;
  if (err == NULL) return code;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(rest, err->msg, sizeof rest);
  {
    size_t np = strlen(prefix), room = sizeof err->msg - 1;
    size_t nr = strlen(rest);
    if (np > room) np = room;
    if (nr > room - np) nr = room - np;
    memcpy(err->msg, prefix, np);
    memcpy(err->msg + np, rest, nr);
    err->msg[np + nr] = '\0';
  }
  return code;
}
