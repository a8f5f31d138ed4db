# The breadth ops of issue 11 (runtime/src/cpu/ElementwiseMath, Indexing, Conv): their kernel
# code run directly on tensors against plain reference loops.
if(TARGET tfc_runtime_static)
  tfc_add_unit_test(runtime_breadth_ops_test SOURCES runtime_breadth_ops_test.cpp
    LIBS tfc_runtime_static tfc_schema DNNL::dnnl)
  target_include_directories(runtime_breadth_ops_test PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
endif()
# The same kinds through one-kernel plans (kernel table, load-time checks, output shapes).
if(TARGET tfc_runtime_static)
  tfc_add_unit_test(runtime_breadth_kernels_test SOURCES runtime_breadth_kernels_test.cpp
    LIBS tfc_runtime_static tfc_schema)
endif()
