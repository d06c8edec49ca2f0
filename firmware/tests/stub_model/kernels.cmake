# The stub model calls no kernel: every kernel set compiles none (as a generated kernels.cmake would say).
set(TC_KERNEL_SETS dsp portable)
set(TC_KERNEL_DEFINES_dsp TC_KERNELS_DSP)
set(TC_KERNEL_SOURCES_dsp)
set(TC_KERNEL_DEFINES_portable)
set(TC_KERNEL_SOURCES_portable)
