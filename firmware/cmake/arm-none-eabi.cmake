# Toolchain file: bare-metal Cortex-M with the Arm GNU toolchain, for the board TC_BOARD
# (-DTC_BOARD=<folder of firmware/boards/>, default stm32f407).
#
# Only what describes the compiler lives here. The linker script, specs, map file
# and post-build steps (.bin, size report) are set on the targets in
# ../CMakeLists.txt.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(TC_TOOLCHAIN_PREFIX arm-none-eabi-)
set(CMAKE_C_COMPILER   ${TC_TOOLCHAIN_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${TC_TOOLCHAIN_PREFIX}g++)
set(CMAKE_ASM_COMPILER ${TC_TOOLCHAIN_PREFIX}gcc)
set(CMAKE_OBJCOPY      ${TC_TOOLCHAIN_PREFIX}objcopy CACHE FILEPATH "objcopy")
set(CMAKE_SIZE         ${TC_TOOLCHAIN_PREFIX}size CACHE FILEPATH "size")

# There is no OS to run a test executable on: let try_compile build a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Never pick up host headers or libraries; programs (python, ...) come from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Flag-order trap: the CPU flags must reach the *link* as well as the compiles,
# or gcc links the soft-float multilib (libc, libgcc) into a hard-float image
# and ld fails with "uses VFP register arguments". CMake passes CMAKE_<LANG>_FLAGS
# to the link driver, so they belong here, not in target_compile_options.
# The _INIT values only seed the cache on the first configure of a build dir:
# after changing them, configure a fresh build dir.
# The board's cpu_flags (its board.toml), also inside try_compile's projects.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TC_BOARD)
include(${CMAKE_CURRENT_LIST_DIR}/board.cmake)
tc_board_value(cpu_flags TC_CPU_FLAGS)
set(CMAKE_C_FLAGS_INIT   "${TC_CPU_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${TC_CPU_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${TC_CPU_FLAGS}")
