// OpenCL (plugins/opencl): PoCL's CPU device in CI, any ICD elsewhere.
#include "conformance.h"

static conformance::DeviceRegistration opencl_registration("OPENCL");
