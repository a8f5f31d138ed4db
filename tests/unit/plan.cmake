# compiler/lower + compiler/plan: symbolic shapes, the arena planner, the plan file writer.
tfc_add_unit_test(plan_shapes_test SOURCES plan_shapes_test.cpp LIBS TfcDriver)
tfc_add_unit_test(plan_bounds_test SOURCES plan_bounds_test.cpp LIBS TfcDriver)
tfc_add_unit_test(plan_checks_test SOURCES plan_checks_test.cpp LIBS TfcDriver tfc_runtime_static)
tfc_add_unit_test(plan_memory_test SOURCES plan_memory_test.cpp LIBS TfcDriver)
tfc_add_unit_test(plan_writer_test SOURCES plan_writer_test.cpp LIBS TfcDriver)
tfc_add_unit_test(plan_constant_kernels_test SOURCES plan_constant_kernels_test.cpp
  LIBS TfcDriver)
tfc_add_unit_test(plan_dot_test SOURCES plan_dot_test.cpp LIBS TfcDriver)
