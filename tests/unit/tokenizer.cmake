# runtime/src/text/ (tokenizers): WordPiece and byte-level BPE against Hugging Face `tokenizers`
# on the fixtures in tests/tokenizer/ (written by make_corpus.py / make_refs.py there).
if(TARGET tfc_runtime_static)
  tfc_add_unit_test(tokenizer_test SOURCES tokenizer_test.cpp LIBS tfc_runtime_static)
  target_include_directories(tokenizer_test PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
endif()
