# compiler/analysis + the ops' interfaces: symbolic shapes without a plan or a target.
tfc_add_unit_test(analysis_shapes_test SOURCES analysis_shapes_test.cpp LIBS TfcAnalysis)
