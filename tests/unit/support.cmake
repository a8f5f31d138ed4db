# support/: output files (temp + rename, links, devices, modes, same-file checks, Ctrl-C).
tfc_add_unit_test(support_output_file_test SOURCES support_output_file_test.cpp LIBS TfcSupport)
