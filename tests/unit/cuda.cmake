# tests/cuda: the CUDA backend's tests. Plain C++ over the C API and the one-kernel plan harness
# (runtime_kernel_harness.h): built always; without the CUDA backend in this build or without a
# usable GPU every test skips with the reason (cuda_test_util.h). Each *_test.cpp is one
# executable.
if(TARGET tfc_runtime_static)
  file(GLOB TFC_CUDA_TEST_SOURCES CONFIGURE_DEPENDS ${TFC_SOURCE_DIR}/tests/cuda/*_test.cpp)
  # cuda_e2e_test compiles whole models with the `tfc` binary: registered below, where it exists.
  list(REMOVE_ITEM TFC_CUDA_TEST_SOURCES ${TFC_SOURCE_DIR}/tests/cuda/cuda_e2e_test.cpp)
  foreach(src ${TFC_CUDA_TEST_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    tfc_add_unit_test(${name} SOURCES ${src} LIBS tfc_runtime_static tfc_schema)
    target_include_directories(${name} PRIVATE ${TFC_SOURCE_DIR}/tests/unit
      ${TFC_SOURCE_DIR}/tests/cuda ${TFC_SOURCE_DIR}/support/include)
  endforeach()
endif()

# Whole cuda plans against the CPU plans of the shipped models (compiled with `tfc`; the no-GPU
# case runs `tfrun`). Skips without a usable GPU, except the check
# that a cuda session is refused with the reason on a machine without one.
if(TARGET tfc_runtime_static AND TARGET tfc AND TARGET tfrun)
  tfc_add_unit_test(cuda_e2e_test SOURCES ${TFC_SOURCE_DIR}/tests/cuda/cuda_e2e_test.cpp
    LIBS tfc_runtime_static tfc_schema GTest::gmock)
  target_include_directories(cuda_e2e_test PRIVATE ${TFC_SOURCE_DIR}/tests/unit
    ${TFC_SOURCE_DIR}/tests/cuda ${TFC_SOURCE_DIR}/tests/e2e ${TFC_SOURCE_DIR}/support/include)
  add_dependencies(cuda_e2e_test tfc tfrun)
endif()
