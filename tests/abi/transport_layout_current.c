/* The layout of the current transport ABI headers (capi/include). */
#define TRANSPORT_LAYOUT_FN transport_layout_current
#include "transport_layout.inc"
