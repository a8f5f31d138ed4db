# tfrun (tools/tfrun): flags, input generation and formatting (the .npy reader/writer is in
# support/: support_npy_test).
# TfrunLib needs no runtime, so these build and run whether or not tfc_runtime exists.
if(TARGET TfrunLib)
  tfc_add_unit_test(tfrun_cli_test
    SOURCES tfrun_args_test.cpp tfrun_inputs_test.cpp tfrun_format_test.cpp tfrun_heatmap_test.cpp
    LIBS TfrunLib)
endif()
