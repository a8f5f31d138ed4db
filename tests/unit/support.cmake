# support/: output files (temp + rename, links, devices, modes, same-file checks, Ctrl-C).
tfc_add_unit_test(support_output_file_test SOURCES support_output_file_test.cpp LIBS TfcSupport)
# support/: f32 -> f16 / bf16 rounding against numpy/torch (a fixture) and a brute-force search.
tfc_add_unit_test(support_float16_test SOURCES support_float16_test.cpp LIBS TfcSupport)
# support/: the .npy reader/writer (Npy.h): round trips, every dtype, malformed files.
tfc_add_unit_test(support_npy_test SOURCES support_npy_test.cpp LIBS TfcSupport)
