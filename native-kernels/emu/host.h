// host.h - the emulator's host side, for the test program: kernel launches and guard-paged buffers.
#pragma once
#include "include/emu.h"
#include <functional>
#include <set>
#include <string>

namespace emu {
// The order in which blocks, the warps of a block and the lanes of a warp run. A correct kernel gives
// bit-identical results in both orders; a difference points at a race.
enum class Order { forward, reverse };
struct Config {
    Order order = Order::forward;
    bool guard_front = false;  // buffers start at a guard page (else they end at one)
    // Fault and watchdog handlers (SIGSEGV, SIGALRM, ...) turn crashes into messages. Inside a JVM they
    // must stay off: the JVM uses SIGSEGV itself. A fault then ends the process (hs_err), still loudly.
    bool handle_signals = true;
};
extern Config config;

// Runs body as the kernel on every thread of every block, with CUDA's launch limits checked.
// Returns "" on success, else the first error: barrier divergence, deadlock, bad shuffle, invalid
// memory access (guard page, write to a read-only buffer), arithmetic fault.
std::string launch(const char* kernel, dim3 grid, dim3 block, size_t dynamic_smem, const std::function<void()>& body);

// Kernel names passed to launch() so far.
const std::set<std::string>& launched();

// "Device" memory: its own mapping between two PROT_NONE pages, placed against one of them (config).
void* device_alloc(size_t bytes, const char* name);
void device_free(void* p);
// A read-only buffer faults on a write; for kernel inputs during a launch.
void set_read_only(void* p, bool ro);
}  // namespace emu
