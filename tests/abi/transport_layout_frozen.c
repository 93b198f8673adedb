/* The layout of the frozen transport ABI v1.0 headers (transport_v1_0/). */
#define TRANSPORT_LAYOUT_FN transport_layout_frozen
#include "transport_layout.inc"
