# bench/opencl_bench.cc, included from plugins/opencl/CMakeLists.txt (the
# benchmark exists only where the OpenCL plugin is built).
find_package(benchmark QUIET)
if(benchmark_FOUND)
  add_executable(opencl_bench ${CMAKE_CURRENT_LIST_DIR}/opencl_bench.cc)
  target_include_directories(opencl_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests/conformance)
  target_link_libraries(opencl_bench PRIVATE loom benchmark::benchmark)
  set_target_properties(opencl_bench PROPERTIES BUILD_RPATH "${CMAKE_BINARY_DIR}/lib")
  add_dependencies(opencl_bench loom_opencl)
else()
  message(STATUS "Google Benchmark not found: opencl_bench skipped (apt-get install libbenchmark-dev)")
endif()
