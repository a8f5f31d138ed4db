# tools/tfc's accuracy check (TfcAccuracy): the figures it compares outputs by. The check itself,
# through the tfc binary and both plans, is tests/e2e/accuracy_check_test.cpp.
if(TARGET TfcAccuracy)
  tfc_add_unit_test(accuracy_metrics_test SOURCES accuracy_metrics_test.cpp LIBS TfcAccuracy)
endif()
