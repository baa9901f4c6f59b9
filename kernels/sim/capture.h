// Stream capture in the emulator (cudaStreamBeginCapture … cudaStreamEndCapture, cudaGraphLaunch;
// kernels/sim/runtime.cpp). The emulator runs stream work at once, except while a capture is open:
// then kernel launches, asynchronous copies and sets and cuBLAS calls are recorded, by value, and a
// graph instantiated from the capture replays them in order. As on a GPU, a capture refuses work
// that would wait for the device or read pageable host memory later (cudaErrorStreamCaptureUnsupported).
#pragma once
#include <functional>

namespace coopgen::sim {

// Runs `work` now, or appends it to the open capture.
void stream_work(std::function<void()> work);

}  // namespace coopgen::sim
