// The CPU plugin's convolution, pooling and batch-normalisation kernels
// (kernels_conv.cc). They register from their own table so the file that
// holds them is the one place to read what they support.
#ifndef LOOM_PLUGINS_CPU_KERNELS_CONV_H_
#define LOOM_PLUGINS_CPU_KERNELS_CONV_H_

#include "loom/loom_plugin.h"

namespace loom_cpu {

// Registers Conv2D and DepthwiseConv2dNative (+ backprops), MaxPool/AvgPool
// (+ grads), FusedBatchNorm V1-V3 (+ grads) for the "CPU" device. Call after
// the device is registered.
loom_status* RegisterConvKernels(const loom_host_api* host);

}  // namespace loom_cpu

#endif  // LOOM_PLUGINS_CPU_KERNELS_CONV_H_
