/* fc.h: the whole floatcast core in one include. */
#ifndef FC_H
#define FC_H
#include "fc/buf.h"
#include "fc/calendar.h"
#include "fc/cashflow.h"
#include "fc/csv.h"
#include "fc/demo.h"
#include "fc/flows.h"
#include "fc/json.h"
#include "fc/money.h"
#include "fc/neural.h"
#include "fc/projection.h"
#include "fc/projection_ml.h"
#include "fc/records.h"
#include "fc/recurring.h"
#include "fc/rng.h"
#include "fc/runway.h"
#include "fc/status.h"
#include "fc/time.h"
#include "fc/treasury.h"
#include "fc/version.h"
#include "fc/whatif.h"
#endif
