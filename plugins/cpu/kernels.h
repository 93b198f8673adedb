// The CPU plugin's kernel entry points. Each is a loom_kernel_def.compute:
// `state` is the user_data given at registration (or what `create` made),
// `ctx` the host's kernel context. cpu_plugin.cc registers them in one table.
#ifndef LOOM_PLUGINS_CPU_KERNELS_H_
#define LOOM_PLUGINS_CPU_KERNELS_H_

#include "kernel_util.h"

#define LOOM_CPU_KERNEL(name) \
  loom_status* name([[maybe_unused]] void* state, [[maybe_unused]] loom_kernel_context* ctx)

namespace loom_cpu {

// kernels_elementwise.cc
LOOM_CPU_KERNEL(NegKernel);
LOOM_CPU_KERNEL(AbsKernel);
LOOM_CPU_KERNEL(SquareKernel);
LOOM_CPU_KERNEL(SignKernel);
LOOM_CPU_KERNEL(ReluKernel);
LOOM_CPU_KERNEL(ExpKernel);
LOOM_CPU_KERNEL(LogKernel);
LOOM_CPU_KERNEL(Log1pKernel);
LOOM_CPU_KERNEL(SqrtKernel);
LOOM_CPU_KERNEL(RsqrtKernel);
LOOM_CPU_KERNEL(SigmoidKernel);
LOOM_CPU_KERNEL(TanhKernel);
LOOM_CPU_KERNEL(ReciprocalKernel);
LOOM_CPU_KERNEL(FloorKernel);
LOOM_CPU_KERNEL(CeilKernel);
LOOM_CPU_KERNEL(RoundKernel);
LOOM_CPU_KERNEL(SoftplusKernel);
LOOM_CPU_KERNEL(ErfKernel);
LOOM_CPU_KERNEL(Expm1Kernel);
LOOM_CPU_KERNEL(TanKernel);
LOOM_CPU_KERNEL(AsinKernel);
LOOM_CPU_KERNEL(AcosKernel);
LOOM_CPU_KERNEL(AtanKernel);
LOOM_CPU_KERNEL(SinhKernel);
LOOM_CPU_KERNEL(CoshKernel);
LOOM_CPU_KERNEL(Atan2Kernel);
LOOM_CPU_KERNEL(IsNanKernel);
LOOM_CPU_KERNEL(IsInfKernel);
LOOM_CPU_KERNEL(IsFiniteKernel);
LOOM_CPU_KERNEL(Relu6Kernel);
LOOM_CPU_KERNEL(EluKernel);
LOOM_CPU_KERNEL(SeluKernel);
LOOM_CPU_KERNEL(SoftsignKernel);
LOOM_CPU_KERNEL(LeakyReluKernel);
LOOM_CPU_KERNEL(SinKernel);
LOOM_CPU_KERNEL(CosKernel);
LOOM_CPU_KERNEL(LogicalNotKernel);
LOOM_CPU_KERNEL(AddKernel);
LOOM_CPU_KERNEL(SubKernel);
LOOM_CPU_KERNEL(MulKernel);
LOOM_CPU_KERNEL(DivKernel);
LOOM_CPU_KERNEL(RealDivKernel);
LOOM_CPU_KERNEL(MaximumKernel);
LOOM_CPU_KERNEL(MinimumKernel);
LOOM_CPU_KERNEL(PowKernel);
LOOM_CPU_KERNEL(FloorDivKernel);
LOOM_CPU_KERNEL(FloorModKernel);
LOOM_CPU_KERNEL(SquaredDifferenceKernel);
LOOM_CPU_KERNEL(EqualKernel);
LOOM_CPU_KERNEL(NotEqualKernel);
LOOM_CPU_KERNEL(LessKernel);
LOOM_CPU_KERNEL(LessEqualKernel);
LOOM_CPU_KERNEL(GreaterKernel);
LOOM_CPU_KERNEL(GreaterEqualKernel);
LOOM_CPU_KERNEL(LogicalAndKernel);
LOOM_CPU_KERNEL(LogicalOrKernel);
LOOM_CPU_KERNEL(ReluGradKernel);
LOOM_CPU_KERNEL(SigmoidGradKernel);
LOOM_CPU_KERNEL(TanhGradKernel);
LOOM_CPU_KERNEL(SqrtGradKernel);
LOOM_CPU_KERNEL(RsqrtGradKernel);
LOOM_CPU_KERNEL(ReciprocalGradKernel);
LOOM_CPU_KERNEL(SoftplusGradKernel);
LOOM_CPU_KERNEL(Relu6GradKernel);
LOOM_CPU_KERNEL(EluGradKernel);
LOOM_CPU_KERNEL(SeluGradKernel);
LOOM_CPU_KERNEL(SoftsignGradKernel);
LOOM_CPU_KERNEL(LeakyReluGradKernel);
LOOM_CPU_KERNEL(SelectKernel);
LOOM_CPU_KERNEL(SelectV2Kernel);
LOOM_CPU_KERNEL(CastKernel);
LOOM_CPU_KERNEL(AddNKernel);
LOOM_CPU_KERNEL(BiasAddKernel);
LOOM_CPU_KERNEL(ZerosLikeKernel);
LOOM_CPU_KERNEL(OnesLikeKernel);

// kernels_reduce.cc
LOOM_CPU_KERNEL(SumKernel);
LOOM_CPU_KERNEL(MeanKernel);
LOOM_CPU_KERNEL(ProdKernel);
LOOM_CPU_KERNEL(MaxKernel);
LOOM_CPU_KERNEL(MinKernel);
LOOM_CPU_KERNEL(ArgMaxKernel);
LOOM_CPU_KERNEL(ArgMinKernel);
LOOM_CPU_KERNEL(L2LossKernel);
LOOM_CPU_KERNEL(BiasAddGradKernel);
LOOM_CPU_KERNEL(CumsumKernel);
LOOM_CPU_KERNEL(UnsortedSegmentSumKernel);

// kernels_matmul.cc
LOOM_CPU_KERNEL(MatMulKernel);
LOOM_CPU_KERNEL(BatchMatMulKernel);
LOOM_CPU_KERNEL(BatchMatMulV2Kernel);

// kernels_array.cc
LOOM_CPU_KERNEL(TransposeKernel);
LOOM_CPU_KERNEL(ConcatV2Kernel);
LOOM_CPU_KERNEL(ConcatKernel);
LOOM_CPU_KERNEL(SplitKernel);
LOOM_CPU_KERNEL(SplitVKernel);
LOOM_CPU_KERNEL(SliceKernel);
LOOM_CPU_KERNEL(StridedSliceKernel);
LOOM_CPU_KERNEL(StridedSliceGradKernel);
LOOM_CPU_KERNEL(PadKernel);
LOOM_CPU_KERNEL(ConcatOffsetKernel);
LOOM_CPU_KERNEL(TileKernel);
LOOM_CPU_KERNEL(PackKernel);
LOOM_CPU_KERNEL(UnpackKernel);
LOOM_CPU_KERNEL(FillKernel);
LOOM_CPU_KERNEL(OneHotKernel);
LOOM_CPU_KERNEL(BroadcastToKernel);
LOOM_CPU_KERNEL(RangeKernel);
LOOM_CPU_KERNEL(InvertPermutationKernel);
LOOM_CPU_KERNEL(GatherV2Kernel);
LOOM_CPU_KERNEL(DynamicStitchKernel);

// kernels_nn.cc
LOOM_CPU_KERNEL(SoftmaxKernel);
LOOM_CPU_KERNEL(LogSoftmaxKernel);
LOOM_CPU_KERNEL(SoftmaxCrossEntropyWithLogitsKernel);
LOOM_CPU_KERNEL(SparseSoftmaxCrossEntropyWithLogitsKernel);
LOOM_CPU_KERNEL(AssignAddKernel);
LOOM_CPU_KERNEL(AssignSubKernel);
LOOM_CPU_KERNEL(ApplyGradientDescentKernel);
LOOM_CPU_KERNEL(ApplyMomentumKernel);
LOOM_CPU_KERNEL(ApplyAdamKernel);
LOOM_CPU_KERNEL(ApplyAdagradKernel);
LOOM_CPU_KERNEL(ApplyRMSPropKernel);

// kernels_random.cc
LOOM_CPU_KERNEL(RandomUniformKernel);
LOOM_CPU_KERNEL(RandomStandardNormalKernel);
LOOM_CPU_KERNEL(TruncatedNormalKernel);
// Per-node state (the node's Philox stream), seeded from the seed/seed2 attrs.
// kernels_conv.cc
LOOM_CPU_KERNEL(Conv2DKernel);
LOOM_CPU_KERNEL(Conv2DBackpropInputKernel);
LOOM_CPU_KERNEL(Conv2DBackpropFilterKernel);

// kernels_depthwise.cc
LOOM_CPU_KERNEL(DepthwiseConv2dNativeKernel);
LOOM_CPU_KERNEL(DepthwiseConv2dNativeBackpropInputKernel);
LOOM_CPU_KERNEL(DepthwiseConv2dNativeBackpropFilterKernel);

// kernels_pool.cc
LOOM_CPU_KERNEL(MaxPoolKernel);
LOOM_CPU_KERNEL(MaxPoolGradKernel);
LOOM_CPU_KERNEL(MaxPoolGradGradKernel);
LOOM_CPU_KERNEL(AvgPoolKernel);
LOOM_CPU_KERNEL(AvgPoolGradKernel);

// kernels_batch_norm.cc
LOOM_CPU_KERNEL(FusedBatchNormKernel);
LOOM_CPU_KERNEL(FusedBatchNormGradKernel);

loom_status* RandomCreate(void* user_data, loom_kernel_construction* c, void** out_state);
void RandomDestroy(void* state);

}  // namespace loom_cpu

#endif  // LOOM_PLUGINS_CPU_KERNELS_H_
