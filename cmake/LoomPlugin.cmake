# loom_add_plugin(<name> [NO_INSTALL] SOURCES <src>...)
# Builds lib<name>.so as a MODULE into the plugin directory. It may include only
# the public Loom headers (capi/include, or the installed ones) and links no
# Loom library: the host hands it a function table at init. Undefined symbols
# are link errors, so a call into the runtime cannot sneak in.
# NO_INSTALL: built (and tested) in the build tree only, never installed — test
# fixtures, templates and examples, which an installed Loom must not discover.
function(loom_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  if(TARGET Loom::headers)
    target_link_libraries(${name} PRIVATE Loom::headers)
  else()
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/capi/include)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "lib" C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden)
  # The plugin kit (loom/plugin/*.hpp) is C++17; a project that chose a
  # standard keeps it.
  if(NOT DEFINED CMAKE_CXX_STANDARD)
    set_target_properties(${name} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
  endif()
  if(DEFINED LOOM_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${LOOM_PLUGIN_OUTPUT_DIR}")
  endif()
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  if(DEFINED LOOM_PLUGIN_INSTALL_DIR AND NOT ARG_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${LOOM_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
