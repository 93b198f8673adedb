// The CPU runs the suite too: it is the reference, so this row checks the
// harness itself (every comparison must be exact).
#include "conformance.h"

static conformance::DeviceRegistration cpu_registration("CPU");
