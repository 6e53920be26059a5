/* status.h: the error codes every floatcast function returns.
 *
 * Functions return int: 0 (FC_OK) on success, a negative fc_status on
 * failure. Where a caller wants the details ("line 12: amount: not a
 * decimal"), it passes an fc_err; the function fills it and returns the
 * same code. An fc_err pointer may always be NULL.
 */
#ifndef FC_STATUS_H
#define FC_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One table makes both the enum and fc_strerror(). */
#define FC_STATUS_MAP(X)                       \
  X(OK, 0, "ok")                               \
  X(EINVAL, -1, "invalid argument")            \
  X(ENOMEM, -2, "out of memory")               \
  X(EPARSE, -3, "malformed input")             \
  X(ERANGE, -4, "value out of range")          \
  X(ENOTFOUND, -5, "not found")                \
  X(EDUP, -6, "duplicate id")                  \
  X(ECURRENCY, -7, "unknown currency")         \
  X(ETOOSHORT, -8, "history too short")        \
  X(ECORRUPT, -9, "corrupt or truncated data") \
  X(EUNSUPPORTED, -10, "unsupported")          \
  X(EABORTED, -11, "aborted by caller")        \
  X(ENUMERIC, -12, "numerical failure")

typedef enum fc_status {
#define FC__STATUS_ENUM(name, code, text) FC_##name = code,
  FC_STATUS_MAP(FC__STATUS_ENUM)
#undef FC__STATUS_ENUM
} fc_status;

/* Symbolic name ("EPARSE") and description ("malformed input") of a code. */
const char *fc_status_name(int code);
const char *fc_strerror(int code);

#define FC_ERR_MSG_MAX 512

/* Caller storage for an error's details. */
typedef struct fc_err {
  int code;
  char msg[FC_ERR_MSG_MAX];
} fc_err;

/* Resets an fc_err to FC_OK with an empty message. */
void fc_err_clear(fc_err *err);

#if defined(__GNUC__) || defined(__clang__)
#define FC_ERR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FC_ERR_PRINTF(a, b)
#endif

/* Fills err (may be NULL) with code and a formatted message; returns code,
 * so that `return fc_err_set(err, FC_EINVAL, "...")` reads as one step.
 * The core, the gateway and the WASM layer all report errors this way. */
int fc_err_set(fc_err *err, int code, const char *fmt, ...) FC_ERR_PRINTF(3, 4);
/* Puts a formatted prefix before err's message ("line 7: " + "amount: not
 * a decimal"), keeping the start when it no longer fits; returns code. */
int fc_err_prefix(fc_err *err, int code, const char *fmt, ...) FC_ERR_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif
#endif /* FC_STATUS_H */
