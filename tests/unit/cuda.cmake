# tests/cuda: the CUDA backend's tests. Plain C++ over the C API and the one-kernel plan harness
# (runtime_kernel_harness.h): built always; without the CUDA backend in this build or without a
# usable GPU every test skips with the reason (cuda_test_util.h). Each *_test.cpp is one
# executable.
if(TARGET tfc_runtime)
  file(GLOB TFC_CUDA_TEST_SOURCES CONFIGURE_DEPENDS ${TFC_SOURCE_DIR}/tests/cuda/*_test.cpp)
  foreach(src ${TFC_CUDA_TEST_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    tfc_add_unit_test(${name} SOURCES ${src} LIBS tfc_runtime tfc_schema)
    target_include_directories(${name} PRIVATE ${TFC_SOURCE_DIR}/tests/unit
      ${TFC_SOURCE_DIR}/tests/cuda ${TFC_SOURCE_DIR}/support/include)
  endforeach()
endif()
