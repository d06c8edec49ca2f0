# The board layer as CMake sees it: TC_BOARD names a folder of firmware/boards/ whose
# board.toml (checked in full by pipeline/boards.py) gives the top-level keys read here.
#
#   tc_board_value(<key> <out>)    a top-level `key = value` of the board's board.toml
#   tc_board_link(<target> <stack_bytes>)
#                                  the board's sources, includes, defines and linker script on <target>
#
# Included by the toolchain file (for the CPU flags, before project()) and by the projects.
include_guard(GLOBAL)

set(TC_BOARDS_DIR "${CMAKE_CURRENT_LIST_DIR}/../boards")
get_filename_component(TC_BOARDS_DIR "${TC_BOARDS_DIR}" ABSOLUTE)
if(NOT TC_BOARD)
  set(TC_BOARD "stm32f407")
endif()
set(TC_BOARD_DIR "${TC_BOARDS_DIR}/${TC_BOARD}")
if(NOT EXISTS "${TC_BOARD_DIR}/board.toml")
  file(GLOB _tc_boards RELATIVE "${TC_BOARDS_DIR}" "${TC_BOARDS_DIR}/*/board.toml")
  list(TRANSFORM _tc_boards REPLACE "/board.toml$" "")
  message(FATAL_ERROR "TC_BOARD=${TC_BOARD}: no ${TC_BOARD_DIR}/board.toml; boards: ${_tc_boards}")
endif()

function(tc_board_value key out)
  # Top-level keys only: everything before the first [table].
  file(STRINGS "${TC_BOARD_DIR}/board.toml" _lines)
  foreach(_line IN LISTS _lines)
    if(_line MATCHES "^\\[")
      break()
    endif()
    if(_line MATCHES "^${key} *= *(.*)$")
      string(REGEX REPLACE " *#.*$" "" _value "${CMAKE_MATCH_1}")
      string(REGEX REPLACE "[][\"]" "" _value "${_value}")  # a string, or a list of strings
      string(REGEX REPLACE " *, *" ";" _value "${_value}")
      string(STRIP "${_value}" _value)
      set(${out} "${_value}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "${TC_BOARD_DIR}/board.toml: no top-level key '${key}'")
endfunction()

function(tc_board_link target stack_bytes)
  tc_board_value(clock_hz _clock_hz)
  tc_board_value(irq_count _irq_count)
  tc_board_value(linker_script _linker_script)
  file(GLOB _common CONFIGURE_DEPENDS "${TC_BOARDS_DIR}/common/*.c")
  file(GLOB _own CONFIGURE_DEPENDS "${TC_BOARD_DIR}/*.c")
  tc_board_value(drivers _drivers)
  list(TRANSFORM _drivers PREPEND "${TC_BOARDS_DIR}/drivers/")
  list(TRANSFORM _drivers APPEND ".c")
  target_sources(${target} PRIVATE ${_common} ${_own} ${_drivers})
  target_include_directories(${target} PRIVATE "${TC_BOARDS_DIR}/common" "${TC_BOARD_DIR}")
  target_compile_definitions(${target} PRIVATE
    TC_BOARD_CLOCK_HZ=${_clock_hz}u TC_BOARD_IRQ_COUNT=${_irq_count})
  set(_script "${TC_BOARD_DIR}/${_linker_script}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${_script}" "${TC_BOARDS_DIR}/common/sections.ld")
  target_link_options(${target} PRIVATE
    -T${_script} -L${TC_BOARDS_DIR}/common
    -Wl,--defsym=__stack_size__=${stack_bytes}
    # Our own startup, newlib-nano for the odd mem* call, and deliberately no
    # nosys.specs: no _sbrk means any malloc fails to link (no heap).
    -nostartfiles --specs=nano.specs
    -Wl,--gc-sections)
endfunction()
