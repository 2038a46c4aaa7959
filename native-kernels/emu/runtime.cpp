// runtime.cpp - the emulator's scheduler. Every CUDA thread of a block is a fiber with its own stack;
// blocks run one after another. A fiber runs until it reaches __syncthreads, a warp operation or its
// end, then switches back to the scheduler, which releases a barrier once every thread it needs has
// arrived and reports divergence or deadlock otherwise. Each warp runs as far as it can before the
// next one starts. Memory faults (guard pages, read-only inputs) and timeouts become launch errors
// through a signal handler that jumps back into launch().
#include "host.h"
#include <algorithm>
#include <csetjmp>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <sys/mman.h>
#include <unistd.h>
#include <ucontext.h>
#include <vector>

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

namespace emu {
Config config;

namespace {
enum State : uint8_t { RUNNABLE, AT_BARRIER, AT_WARP, DONE };

struct Fiber {
    void* sp;  // saved stack pointer (x86-64) while switched out
    State state;
    Site site;  // where it waits
    const char* op;
    unsigned mask;
    bool same;
    int src;
    uint64_t value, result;
    uint3 tid;
};

const size_t kPage = (size_t)sysconf(_SC_PAGESIZE);
constexpr size_t kStackBytes = 128 << 10;
constexpr unsigned kMaxThreads = 1024;
constexpr size_t kMaxDynamicSmem = 166912;  // sm_80: 163 KiB per block (opt-in), static included
constexpr unsigned kLaunchSeconds = 30;     // a fiber is never preempted: an endless loop ends here

struct Region {
    uintptr_t lo, hi;
    std::string what;  // "before 'x'", "after 'x'", "read-only 'x'", ...
    uintptr_t base;    // offsets are reported relative to this
};
std::vector<Region> regions;

struct Alloc {
    char* map;
    size_t map_len, span;
    size_t bytes;
    std::string name;
};
std::map<void*, Alloc> allocs;

std::vector<Fiber> fibers;
std::vector<char*> stacks;
std::vector<int> warp_order, lane_order;
void* main_sp;
int cur = -1;
const std::function<void()>* body;
const char* kernel_name;
bool failed;
std::string error;
char* dyn_map;
size_t dyn_map_len;
char* dyn_ptr;
size_t dyn_bytes;
std::set<std::string> launched_names;

sigjmp_buf fault_jmp;
volatile sig_atomic_t in_launch;
volatile sig_atomic_t timed_out;  // after one endless loop, launches are refused rather than waited for
char fault_msg[512];

// ---- context switching ----
#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
extern "C" void emu_switch(void** save_sp, void* to_sp);
// Saves the callee-saved registers on the current stack, swaps stacks, restores them from the other.
// A new fiber's stack holds zeroed registers with r13 = entry, r12 = argument, then emu_fiber_start.
asm(R"(
    .text
    .globl emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
    .type emu_fiber_start, @function
emu_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size emu_fiber_start, .-emu_fiber_start
)");
extern "C" void emu_fiber_start();

void fiber_entry(void*);
void init_fiber(int i) {
    uintptr_t top = (uintptr_t)(stacks[i] + kPage + kStackBytes) & ~(uintptr_t)15;
    void** sp = (void**)(top - 72);  // 16-byte aligned again after the ret into emu_fiber_start
    for (int k = 0; k < 9; k++) sp[k] = nullptr;
    sp[2] = (void*)&fiber_entry;  // r13
    sp[6] = (void*)&emu_fiber_start;
    fibers[i].sp = sp;
}
inline void switch_to_fiber(int i) { emu_switch(&main_sp, fibers[i].sp); }
inline void switch_to_main() { emu_switch(&fibers[cur].sp, main_sp); }
#else  // portable but slower: swapcontext also saves the signal mask, a system call per switch
std::vector<ucontext_t> contexts;
ucontext_t main_ctx;
void fiber_entry(void*);
void fiber_trampoline() { fiber_entry(nullptr); }
void init_fiber(int i) {
    if (contexts.size() < fibers.size()) contexts.resize(fibers.size());
    getcontext(&contexts[i]);
    contexts[i].uc_stack.ss_sp = stacks[i] + kPage;
    contexts[i].uc_stack.ss_size = kStackBytes;
    contexts[i].uc_link = nullptr;
    makecontext(&contexts[i], fiber_trampoline, 0);
}
inline void switch_to_fiber(int i) { swapcontext(&main_ctx, &contexts[i]); }
inline void switch_to_main() { swapcontext(&contexts[cur], &main_ctx); }
#endif

void fiber_entry(void*) {
    (*body)();
    fibers[cur].state = DONE;
    switch_to_main();
    __builtin_unreachable();
}

// ---- diagnostics ----
std::string format(const char* fmt, va_list ap) {
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    return buf;
}
std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string s = format(fmt, ap);
    va_end(ap);
    return s;
}
const char* base_name(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}
std::string where(Site s) { return strf("%s:%d", base_name(s.file), s.line); }
bool same_site(Site a, Site b) { return a.line == b.line && (a.file == b.file || strcmp(a.file, b.file) == 0); }
std::string block_str() { return strf("block (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z); }
std::string thread_str(int i) {
    const uint3 t = fibers[i].tid;
    return strf("thread (%u,%u,%u)", t.x, t.y, t.z);
}
std::string wait_str(const Fiber& f) {
    switch (f.state) {
        case RUNNABLE: return "runnable";
        case AT_BARRIER: return "__syncthreads at " + where(f.site);
        case AT_WARP: return strf("%s (mask 0x%08x) at %s", f.op, f.mask, where(f.site).c_str());
        default: return "exited";
    }
}
// Where every thread of the block is, as runs of consecutive threads in the same place.
std::string states() {
    std::string s;
    const int n = (int)fibers.size();
    for (int i = 0; i < n;) {
        int j = i + 1;
        const std::string w = wait_str(fibers[i]);
        while (j < n && wait_str(fibers[j]) == w) j++;
        s += strf("\n      threads %d-%d: %s", i, j - 1, w.c_str());
        i = j;
    }
    return s;
}
void scheduler_error(const std::string& what) {
    failed = true;
    error = strf("%s: %s: %s", kernel_name, block_str().c_str(), what.c_str());
}

// ---- barriers ----
// Releases every rendezvous of warp w whose lanes have all arrived; false if none could be (or on
// an error: a lane of the mask exited, waits elsewhere, or does not exist).
bool release_warp(int w) {
    const int n = (int)fibers.size(), w0 = 32 * w, wn = std::min(32, n - w0);
    const unsigned exist = wn == 32 ? ~0u : (1u << wn) - 1;
    unsigned waiting = 0;
    for (int l = 0; l < wn; l++)
        if (fibers[w0 + l].state == AT_WARP) waiting |= 1u << l;
    bool progress = false;
    while (waiting) {
        const int l0 = __builtin_ctz(waiting);
        const Fiber& a = fibers[w0 + l0];
        const unsigned m = a.mask;
        waiting &= ~(1u << l0);
        if (m & ~exist) {
            scheduler_error(strf("%s: %s at %s: mask 0x%08x names lanes this block (%d threads) lacks", thread_str(w0 + l0).c_str(), a.op,
                                 where(a.site).c_str(), m, n));
            return false;
        }
        bool ready = true;
        for (int l = 0; l < 32; l++) {
            if (!(m >> l & 1)) continue;
            const Fiber& b = fibers[w0 + l];
            if (b.state == RUNNABLE) {  // released by an earlier group of this call
                ready = false;
                continue;
            }
            if (b.state != AT_WARP || b.mask != m || strcmp(b.op, a.op) != 0 || !same_site(b.site, a.site)) {
                scheduler_error(strf("warp divergence: %s waits in %s, but %s (in its mask) is at: %s", thread_str(w0 + l0).c_str(),
                                     wait_str(a).c_str(), thread_str(w0 + l).c_str(), wait_str(b).c_str()));
                return false;
            }
            if (a.same && b.value != a.value) {
                scheduler_error(strf("%s at %s: lanes %d and %d pass different arguments", a.op, where(a.site).c_str(), l0, l));
                return false;
            }
            if (!(m >> b.src & 1)) {
                scheduler_error(strf("%s at %s: %s reads lane %d, which is not in mask 0x%08x", a.op, where(a.site).c_str(),
                                     thread_str(w0 + l).c_str(), b.src, m));
                return false;
            }
        }
        if (!ready) continue;
        for (int l = 0; l < 32; l++)
            if (m >> l & 1) fibers[w0 + l].result = fibers[w0 + fibers[w0 + l].src].value;
        for (int l = 0; l < 32; l++)
            if (m >> l & 1) fibers[w0 + l].state = RUNNABLE;
        waiting &= ~m;
        progress = true;
    }
    return progress;
}

// Releases __syncthreads if every thread waits there; sets the error on divergence or deadlock.
// Returns false when the block has finished (or failed).
bool release_block() {
    const int n = (int)fibers.size();
    int done = -1, bar = -1, ndone = 0, nbar = 0;
    for (int i = 0; i < n; i++) {
        const Fiber& f = fibers[i];
        if (f.state == DONE) {
            ndone++;
            if (done < 0) done = i;
        } else if (f.state == AT_BARRIER) {
            nbar++;
            if (bar < 0) bar = i;
            else if (!same_site(f.site, fibers[bar].site)) {
                scheduler_error(strf("barrier divergence: %s waits at __syncthreads %s, %s at %s", thread_str(bar).c_str(),
                                     where(fibers[bar].site).c_str(), thread_str(i).c_str(), where(f.site).c_str()));
                return false;
            }
        }
    }
    if (ndone == n) return false;
    if (nbar == n) {
        for (auto& f : fibers) f.state = RUNNABLE;
        return true;
    }
    if (nbar + ndone == n)
        scheduler_error(strf("barrier divergence: %s exited while %s waits at __syncthreads %s", thread_str(done).c_str(),
                             thread_str(bar).c_str(), where(fibers[bar].site).c_str()));
    else
        scheduler_error("deadlock; the threads are at:" + states());
    return false;
}

void yield_as(State s, Site at) {
    fibers[cur].state = s;
    fibers[cur].site = at;
    switch_to_main();
}

// Runs warp w as far as it gets: its lanes in turn, each up to its next rendezvous, until every lane
// waits at __syncthreads or has exited. Warps thus run ahead of each other between block barriers
// (a legal schedule), which lets a missing __syncthreads show.
void run_warp(int w) {
    const int n = (int)fibers.size(), w0 = 32 * w;
    do {
        for (int l : lane_order) {
            const int i = w0 + l;
            if (i >= n || fibers[i].state != RUNNABLE) continue;
            cur = i;
            threadIdx = fibers[i].tid;
            switch_to_fiber(i);
            cur = -1;
            if (failed) return;
        }
    } while (release_warp(w));
}

void run_block() {
    const int n = (int)fibers.size();
    for (int i = 0; i < n; i++) {
        fibers[i].state = RUNNABLE;
        init_fiber(i);
    }
    if (dyn_ptr) memset(dyn_ptr, 0xff, dyn_bytes);  // NaN for float and double
    do {
        for (int w : warp_order) {
            run_warp(w);
            if (failed) return;
        }
    } while (!failed && release_block());
}

// ---- memory ----
void* map_pages(size_t len) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("emu: mmap");
        abort();
    }
    return p;
}
void protect(void* p, size_t len, int prot) {
    if (mprotect(p, len, prot) != 0) {
        perror("emu: mprotect");
        abort();
    }
}
size_t round_up(size_t n) { return (std::max<size_t>(n, 1) + kPage - 1) / kPage * kPage; }

void ensure_stacks(size_t n) {
    while (stacks.size() < n) {
        char* s = (char*)map_pages(kPage + kStackBytes);
        protect(s, kPage, PROT_NONE);
        regions.push_back({(uintptr_t)s, (uintptr_t)s + kPage, strf("the guard page of fiber stack %zu (stack overflow)", stacks.size()), (uintptr_t)s});
        stacks.push_back(s);
    }
}

// ---- faults ----
std::string describe(uintptr_t a) {
    for (const Region& r : regions)
        if (a >= r.lo && a < r.hi) return strf("%s, byte offset %lld", r.what.c_str(), (long long)(a - r.base));
    return strf("unmapped address %p", (void*)a);
}

void on_signal(int sig, siginfo_t* si, void* uc) {
    std::string what;
    if (sig == SIGSEGV || sig == SIGBUS) {
        const char* access = "access";
#if defined(__x86_64__)
        access = ((ucontext_t*)uc)->uc_mcontext.gregs[REG_ERR] & 2 ? "write" : "read";  // page-fault error code, bit 1
#endif
        what = strf("invalid %s: %s", access, describe((uintptr_t)si->si_addr).c_str());
    } else if (sig == SIGFPE) {
        what = "arithmetic fault (integer division by zero?)";
    } else if (sig == SIGALRM) {
        timed_out = 1;
        what = strf("still running after %u s: an endless loop, or a spin-wait on another thread?", kLaunchSeconds);
    } else if (sig == SIGILL) {
        what = "illegal instruction (a trap)";
    } else {
        what = strf("signal %d", sig);
    }
    std::string ctx = cur >= 0 ? strf("%s: %s %s: ", kernel_name, block_str().c_str(), thread_str(cur).c_str()) : "";
    snprintf(fault_msg, sizeof fault_msg, "%s%s", ctx.c_str(), what.c_str());
    if (in_launch) siglongjmp(fault_jmp, 1);
    fprintf(stderr, "emu: %s\n", fault_msg);
    _exit(3);
}

// Null unless the program is linked with a sanitizer runtime (emu.mk adds UBSan when it can).
extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

void on_sanitizer_death() {
    if (cur >= 0) fprintf(stderr, "emu: the report above came from %s %s %s\n", kernel_name, block_str().c_str(), thread_str(cur).c_str());
}

void install_handlers() {
    static bool done = false;
    if (done) return;
    done = true;
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(on_sanitizer_death);
    stack_t ss;
    ss.ss_size = 256 << 10;
    ss.ss_sp = map_pages(ss.ss_size);
    ss.ss_flags = 0;
    sigaltstack(&ss, nullptr);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGALRM}) sigaction(s, &sa, nullptr);
}

void release_dynamic_smem() {
    if (dyn_map) munmap(dyn_map, dyn_map_len);
    if (!regions.empty() && regions.back().what.rfind("past the end of dynamic", 0) == 0) regions.pop_back();
    dyn_map = dyn_ptr = nullptr;
}
}  // namespace

// ---- device side ----
void syncthreads(Site at) {
    if (cur < 0) fail(at, "__syncthreads outside a kernel");
    yield_as(AT_BARRIER, at);
}

uint64_t warp_exchange(Site at, const char* op, unsigned mask, uint64_t value, int src_lane, bool same_value) {
    if (cur < 0) fail(at, "%s outside a kernel", op);
    Fiber& f = fibers[cur];
    if (!(mask >> (cur & 31) & 1)) fail(at, "%s: the calling lane %d is not in mask 0x%08x", op, cur & 31, mask);
    f.op = op;
    f.mask = mask;
    f.value = value;
    f.src = src_lane;
    f.same = same_value;
    yield_as(AT_WARP, at);
    return fibers[cur].result;
}

int lane_id() { return cur & 31; }

void* dynamic_shared() { return dyn_ptr; }

void fail(Site at, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string msg = format(fmt, ap);
    va_end(ap);
    if (cur < 0) {
        fprintf(stderr, "emu: %s: %s\n", where(at).c_str(), msg.c_str());
        abort();
    }
    failed = true;
    error = strf("%s: %s %s: %s: %s", kernel_name, block_str().c_str(), thread_str(cur).c_str(), where(at).c_str(), msg.c_str());
    fibers[cur].state = DONE;
    switch_to_main();
    __builtin_unreachable();
}

// ---- host side ----
std::string launch(const char* kernel, dim3 grid, dim3 block, size_t dynamic_smem, const std::function<void()>& fn) {
    launched_names.insert(kernel);
    if (timed_out) return strf("%s: not run, an earlier launch timed out", kernel);
    const unsigned long long nthreads = (unsigned long long)block.x * block.y * block.z;
    if (nthreads == 0 || nthreads > kMaxThreads || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu ||
        grid.y > 65535 || grid.z > 65535)
        return strf("%s: invalid launch configuration grid (%u,%u,%u) block (%u,%u,%u)", kernel, grid.x, grid.y, grid.z, block.x, block.y, block.z);
    if (dynamic_smem > kMaxDynamicSmem) return strf("%s: %zu bytes of dynamic shared memory exceed the sm_80 limit %zu", kernel, dynamic_smem, kMaxDynamicSmem);
    if (config.handle_signals) install_handlers();
    ensure_stacks(nthreads);

    // Dynamic shared memory ends at a guard page; with none requested the pointer is the guard itself.
    dyn_bytes = dynamic_smem;
    const size_t span = dynamic_smem ? round_up(dynamic_smem) : 0;
    dyn_map_len = span + kPage;
    dyn_map = (char*)map_pages(dyn_map_len);
    protect(dyn_map + span, kPage, PROT_NONE);
    dyn_ptr = dyn_map + span - dynamic_smem;
    regions.push_back({(uintptr_t)(dyn_map + span), (uintptr_t)(dyn_map + span + kPage),
                       strf("past the end of dynamic shared memory (%zu bytes)", dynamic_smem), (uintptr_t)dyn_ptr});

    fibers.assign(nthreads, Fiber{});
    for (unsigned i = 0; i < nthreads; i++) fibers[i].tid = uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
    warp_order.resize((nthreads + 31) / 32);
    lane_order.resize(32);
    for (size_t i = 0; i < warp_order.size(); i++) warp_order[i] = (int)i;
    for (int i = 0; i < 32; i++) lane_order[i] = i;
    const bool reverse = config.order == Order::reverse;
    if (reverse) {
        std::reverse(warp_order.begin(), warp_order.end());
        std::reverse(lane_order.begin(), lane_order.end());
    }
    body = &fn;
    kernel_name = kernel;
    failed = false;
    error.clear();
    blockDim = block;
    gridDim = grid;

    const unsigned long long nblocks = (unsigned long long)grid.x * grid.y * grid.z;
    if (sigsetjmp(fault_jmp, 1)) {
        alarm(0);
        in_launch = 0;
        cur = -1;
        release_dynamic_smem();
        return fault_msg;
    }
    in_launch = 1;
    if (config.handle_signals) alarm(kLaunchSeconds);
    for (unsigned long long k = 0; k < nblocks && !failed; k++) {
        const unsigned long long b = reverse ? nblocks - 1 - k : k;
        blockIdx = uint3{(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((unsigned long long)grid.x * grid.y))};
        run_block();
    }
    if (config.handle_signals) alarm(0);
    in_launch = 0;
    release_dynamic_smem();
    return error;
}

const std::set<std::string>& launched() { return launched_names; }

void* device_alloc(size_t bytes, const char* name) {
    const size_t span = round_up(bytes);
    char* map = (char*)map_pages(span + 2 * kPage);
    protect(map, kPage, PROT_NONE);
    protect(map + kPage + span, kPage, PROT_NONE);
    char* data = config.guard_front ? map + kPage : map + kPage + span - bytes;
    allocs[data] = Alloc{map, span + 2 * kPage, span, bytes, name};
    regions.push_back({(uintptr_t)map, (uintptr_t)(map + kPage), strf("before the start of '%s' (%zu bytes)", name, bytes), (uintptr_t)data});
    regions.push_back({(uintptr_t)(map + kPage + span), (uintptr_t)(map + 2 * kPage + span), strf("past the end of '%s' (%zu bytes)", name, bytes),
                       (uintptr_t)data});
    regions.push_back({(uintptr_t)(map + kPage), (uintptr_t)(map + kPage + span), strf("'%s' (%zu bytes), read-only during the launch", name, bytes), (uintptr_t)data});
    return data;
}

void device_free(void* p) {
    auto it = allocs.find(p);
    if (it == allocs.end()) return;
    const uintptr_t lo = (uintptr_t)it->second.map, hi = lo + it->second.map_len;
    regions.erase(std::remove_if(regions.begin(), regions.end(), [&](const Region& r) { return r.lo >= lo && r.hi <= hi; }), regions.end());
    munmap(it->second.map, it->second.map_len);
    allocs.erase(it);
}

void set_read_only(void* p, bool ro) {
    auto it = allocs.find(p);
    if (it == allocs.end()) return;
    protect(it->second.map + kPage, it->second.span, ro ? PROT_READ : PROT_READ | PROT_WRITE);
}
}  // namespace emu
