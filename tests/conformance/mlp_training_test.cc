// The MLP trains with its variables (and forward, gradients and Adam
// updates) on /device:OPENCL:0 and its input on the CPU, and follows the
// CPU's loss curve step for step.
//
// Tolerance. Both runs start from the same weights and see the same batches,
// so they differ only by float32 rounding: MatMul's summation order, exp/log
// in the loss (each ~1e-7 relative per step, see the conformance tables).
// Adam divides by sqrt(v), so for a weight whose gradient is ~0 a rounding
// difference can flip the sign of its first update (a change of 2*lr), and
// differences compound over steps; across these 40 steps we measured at most
// 8.1e-7 relative difference of the loss (PoCL 3.1 against the Eigen CPU
// plugin). We allow 1e-4 relative: 100x the measured worst, and still far
// below the 2-10% per-step change of the loss, so a wrong gradient or update
// on either device fails the test. (The updates are gated on all gradients,
// as TensorFlow's GATE_GRAPH: without that, an update may run before the
// backward pass has read the variable it changes, and the two devices —
// which schedule differently — then train different models.)
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "mlp_model.h"

namespace {

bool HasDevice(const char* type) {
  for (int i = 0; i < loom_device_count(); ++i)
    if (std::strcmp(loom_device_type(i), type) == 0) return true;
  return false;
}

std::vector<double> Train(const std::string& device, const mlp::Data& data, int steps, int batch) {
  mlp::Model m;
  std::string err = m.Build(device, batch);
  EXPECT_EQ(err, "") << "building the MLP on " << device;
  std::vector<double> losses;
  if (!err.empty()) return losses;
  for (int s = 0; s < steps; ++s) {
    double loss = 0;
    err = m.Step(data, s * batch, &loss);
    EXPECT_EQ(err, "") << "step " << s << " on " << device;
    if (!err.empty()) break;
    losses.push_back(loss);
  }
  return losses;
}

TEST(OpenClTraining, MlpMatchesTheCpuLossStepForStep) {
  if (!HasDevice("OPENCL")) GTEST_SKIP() << "no OPENCL device (is pocl-opencl-icd installed?)";
  const int kSteps = 40, kBatch = 100;
  mlp::Data data = mlp::MakeData(2000, 3);
  std::vector<double> cpu = Train("/device:CPU:0", data, kSteps, kBatch);
  std::vector<double> ocl = Train("/device:OPENCL:0", data, kSteps, kBatch);
  ASSERT_EQ(cpu.size(), static_cast<size_t>(kSteps));
  ASSERT_EQ(ocl.size(), static_cast<size_t>(kSteps));
  double worst = 0;
  for (int s = 0; s < kSteps; ++s) {
    const double rel = std::fabs(ocl[s] - cpu[s]) / std::fabs(cpu[s]);
    worst = std::max(worst, rel);
    EXPECT_LE(rel, 1e-4) << "step " << s << ": OPENCL loss " << ocl[s] << ", CPU " << cpu[s];
  }
  std::printf("loss: step 0 %.5f -> step %d %.5f (CPU %.5f); worst relative difference %.2e\n",
              ocl[0], kSteps - 1, ocl.back(), cpu.back(), worst);
  // It learns: from ln(10) = 2.30 at chance to well below.
  EXPECT_GT(ocl[0], 1.5);
  EXPECT_LT(ocl.back(), 0.5 * ocl[0]);
}

// Variables living in OpenCL memory are saved and restored like any other:
// after restoring, the next step gives the loss it gave right after saving.
TEST(OpenClTraining, CheckpointOfDeviceVariablesRestoresTheTrainingState) {
  if (!HasDevice("OPENCL")) GTEST_SKIP() << "no OPENCL device (is pocl-opencl-icd installed?)";
  mlp::Data data = mlp::MakeData(600, 9);
  mlp::Model m;
  ASSERT_EQ(m.Build("/device:OPENCL:0", 100), "");
  double loss = 0;
  for (int s = 0; s < 3; ++s) ASSERT_EQ(m.Step(data, s * 100, &loss), "");
  char path[] = "/tmp/loom-opencl-ckpt-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_EQ(mlp::Take(loom_session_save(m.session(), path, nullptr, 0)), "");
  double after_save = 0, later = 0, after_restore = 0;
  ASSERT_EQ(m.Step(data, 300, &after_save), "");
  ASSERT_EQ(m.Step(data, 400, &later), "");
  ASSERT_EQ(mlp::Take(loom_session_restore(m.session(), path, nullptr, 0)), "");
  ASSERT_EQ(m.Step(data, 300, &after_restore), "");
  EXPECT_EQ(after_restore, after_save) << "the restored state must give the same loss, bit for bit";
  std::remove(path);
}

// Bad input fails cleanly on the device too: a label outside [0, 10).
TEST(OpenClTraining, OutOfRangeLabelIsAnErrorNamingTheLabel) {
  if (!HasDevice("OPENCL")) GTEST_SKIP() << "no OPENCL device (is pocl-opencl-icd installed?)";
  mlp::Data data = mlp::MakeData(100, 5);
  data.labels[17] = 12;
  mlp::Model m;
  ASSERT_EQ(m.Build("/device:OPENCL:0", 100), "");
  double loss = 0;
  std::string err = m.Step(data, 0, &loss);
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("label value of 12"), std::string::npos) << err;
  EXPECT_NE(err.find("OPENCL"), std::string::npos) << err;
}

}  // namespace
