/* version.h: the library version (also stamped into saved models). */
#ifndef FC_VERSION_H
#define FC_VERSION_H
#define FC_VERSION_MAJOR  0
#define FC_VERSION_MINOR  1
#define FC_VERSION_PATCH  0
#define FC_VERSION_STRING "0.1.0"
#endif
