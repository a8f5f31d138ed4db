/* tfc_runtime.h - the tfc runtime C API.
 *
 * Load a plan written by `tfc compile`, create sessions on it, run them.
 *
 *   tfc_plan *plan = NULL;
 *   tfc_status *st = tfc_plan_open("plan.bin", NULL, &plan);
 *   if (st) { fprintf(stderr, "%s\n", tfc_status_message(st)); tfc_status_free(st); return 1; }
 *   tfc_session *s = NULL;
 *   st = tfc_session_create(plan, NULL, &s);
 *   int64_t dims[2] = {1, 7};
 *   tfc_tensor in[2] = {{"input_ids", TFC_I64, 2, dims, ids}, {"attention_mask", TFC_I64, 2, dims, mask}};
 *   tfc_outputs *out = NULL;
 *   st = tfc_session_run(s, "forward", in, 2, &out);
 *   tfc_tensor y; tfc_outputs_get(out, 0, &y);      // y.data valid until tfc_outputs_free(out)
 *   tfc_outputs_free(out); tfc_session_release(s); tfc_plan_release(plan);
 *
 * Errors: every fallible call returns NULL on success or a tfc_status the caller frees; the
 * message names the problem (file, function, input, kernel). No C++ exception crosses this API;
 * no call aborts on bad input.
 *
 * Threads and lifetimes: a tfc_plan is immutable once opened and may be shared by any number of
 * threads and sessions; it stays alive while any session created on it lives (sessions retain
 * it), so tfc_plan_release may come before the sessions' release. A tfc_session is used by one
 * thread at a time (it owns the arena and the kernels' cached state); use one session per thread.
 * A call that changes a session (run, generate, set_attention_capture) while another thread is
 * in one on the same session returns TFC_BUSY and leaves the session as it was; the calls without
 * a status (set_profiling, profile_reset, attention_clear) then do nothing. Readers (profile_get,
 * attention_get) must not overlap a call on the same session; tfc_session_release must not.
 * A plan file rewritten or truncated in place while open is refused (TFC_IO_ERROR) by the next
 * run or session; one truncated during a run can still end the process with SIGBUS
 * (docs/ROBUSTNESS.md): replace plan files by writing a new file and renaming it.
 * Strings returned by tfc_plan_* calls live as long as the plan.
 */
#ifndef TFC_RUNTIME_H
#define TFC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* TFC_API marks the exported C functions: libtfc_runtime.so is built with hidden visibility and a
 * version script that keeps only tfc_* (docs/EMBEDDING.md, "Symbols"). */
#ifndef TFC_API
#if defined(_WIN32) && defined(TFC_RUNTIME_BUILD)
#define TFC_API __declspec(dllexport)
#elif defined(_WIN32)
#define TFC_API __declspec(dllimport)
#elif defined(__GNUC__)
#define TFC_API __attribute__((visibility("default")))
#else
#define TFC_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define TFC_RUNTIME_PLAN_FORMAT_MAJOR 2
#define TFC_RUNTIME_PLAN_FORMAT_MINOR 5

typedef enum tfc_code {
  TFC_OK = 0,
  TFC_INVALID_ARGUMENT = 1, /* a bad input from the caller: name, dtype, rank, shape */
  TFC_OUT_OF_RANGE = 2,     /* a dim beyond its compiled bound, an index outside a table */
  TFC_NOT_FOUND = 3,        /* unknown function or input name, missing file */
  TFC_INVALID_PLAN = 4,     /* the plan file is malformed or corrupted */
  TFC_VERSION_MISMATCH = 5, /* the plan's format version is not supported */
  TFC_IO_ERROR = 6,
  TFC_UNSUPPORTED = 7,      /* e.g. a target this build cannot run */
  TFC_INTERNAL = 8,
  TFC_UNAVAILABLE = 9,      /* a device or backend this build or machine cannot open (e.g. cuda
                               on a CPU-only build, or no GPU): the message says why */
  TFC_BUSY = 10,            /* the session is in a call on another thread (one call at a time) */
} tfc_code;

typedef enum tfc_dtype {
  TFC_F32 = 0, TFC_F16 = 1, TFC_BF16 = 2, TFC_I32 = 3, TFC_I64 = 4, TFC_I8 = 5, TFC_BOOL = 6,
} tfc_dtype;

typedef struct tfc_status tfc_status;
typedef struct tfc_plan tfc_plan;
typedef struct tfc_session tfc_session;
typedef struct tfc_outputs tfc_outputs;

/* ---- status ---------------------------------------------------------------------------- */
TFC_API tfc_code tfc_status_code(const tfc_status *status);
TFC_API const char *tfc_status_message(const tfc_status *status); /* valid until tfc_status_free */
TFC_API void tfc_status_free(tfc_status *status);                   /* NULL is fine */
TFC_API const char *tfc_code_name(tfc_code code);                   /* "TFC_OUT_OF_RANGE" */
TFC_API size_t tfc_dtype_size(tfc_dtype dtype);                     /* bytes per element; BOOL is 1 */
TFC_API const char *tfc_dtype_name(tfc_dtype dtype);                /* "f32", "i64", "bool" */

/* ---- tensors --------------------------------------------------------------------------- */
/* A tensor view: the caller owns `dims` and `data` of inputs; outputs are owned by tfc_outputs. */
typedef struct tfc_tensor {
  const char *name;
  tfc_dtype dtype;
  int32_t rank;
  const int64_t *dims;
  const void *data; /* row-major, dense */
} tfc_tensor;

/* ---- options structs ------------------------------------------------------------------- */
/* Every options struct starts with `struct_size`, set by its _init function to the size this
 * header declares. New members are only ever added at the end: a caller built against an older
 * header passes its smaller struct_size and the members it does not have take their defaults.
 * A struct_size smaller than the first version's, or larger than this runtime's, is refused
 * (TFC_INVALID_ARGUMENT). Always call the _init function first. */

/* ---- backends and devices ---------------------------------------------------------------- */
/* The backends this runtime was built with, by name ("cpu" always; "cuda" in a build with the
 * CUDA backend). A backend runs the plans of the target of the same name. The CUDA backend is a
 * module, libtfc_cuda.so, next to libtfc_runtime.so (or in $TFC_BACKEND_DIR), loaded the first
 * time it is needed: a cuda plan opened, a session or device check on a cuda device. Listing
 * loads nothing, so "cuda" is listed even where its module cannot load; tfc_device_check says
 * whether it can (with the dynamic loader's reason when not). */
TFC_API size_t tfc_backend_count(void);
TFC_API const char *tfc_backend_name(size_t index); /* NULL when out of range; static storage */
/* How the CPU backend's OpenMP worker threads wait, as set when the runtime loaded from
 * TFC_WAIT_POLICY (auto: spin briefly, then sleep, the default; spin: the OpenMP runtime's long
 * spins, for users who own the cores; passive: sleep at once), e.g. "auto: GOMP_SPINCOUNT=1000"
 * or "auto: left to the user's OMP_WAIT_POLICY=ACTIVE". OpenMP reads its policy once, when it
 * loads: set TFC_WAIT_POLICY before the process starts (or before it first loads libgomp). A
 * value other than these three makes CPU sessions fail (TFC_INVALID_ARGUMENT). Static storage. */
TFC_API const char *tfc_wait_policy(void);
/* Whether `device` ("cpu", "cuda", "cuda:N") can be opened here: 1, or 0 with the reason in
 * `why` (NUL-terminated, truncated to why_len bytes; `why` may be NULL): a bad device text, a
 * backend this build lacks, a backend module that cannot be loaded, no such GPU, ... */
TFC_API int tfc_device_check(const char *device, char *why, size_t why_len);

/* ---- plan ------------------------------------------------------------------------------ */
typedef struct tfc_plan_options {
  size_t struct_size;       /* sizeof(tfc_plan_options), set by tfc_plan_options_init */
  /* 1 (default): every constant's checksum is checked before any run: once per plan, when the
   * first session is created on it (not at open, which reads only the plan's tables and stays
   * fast and flat in the weights' size); a mismatch fails that tfc_session_create and every
   * later one on the plan with TFC_INVALID_PLAN naming the constant. 0: never checked (except
   * on request: tfc_plan_verify). */
  int32_t verify_checksums;
  /* (added in 0.2) 1: open a plan of a target this build cannot run (a cuda plan on a CPU-only
   * build) for inspection only: its metadata, functions and signatures; sessions on it fail
   * with TFC_UNAVAILABLE. 0 (default): such a plan is refused with TFC_UNAVAILABLE. */
  int32_t any_target;
  /* (added in 0.2) The device the sessions on this plan open when their own options name none:
   * "cpu", "cuda", "cuda:N"; NULL or "" (default): device 0 of the backend that runs the plan's
   * target. Checked at open: malformed text is TFC_INVALID_ARGUMENT, a device whose backend this
   * build lacks or that runs another target is TFC_UNAVAILABLE (whether the device itself can be
   * opened is checked when a session opens it). The string is copied. */
  const char *device;
} tfc_plan_options;
TFC_API void tfc_plan_options_init(tfc_plan_options *options);

/* Maps the plan at `path` and checks its structure: the header, the FlatBuffer, every constant's
 * dtype, shape, alignment and range, every function and kernel (options may be NULL). The weight
 * bytes are not read (their checksums: verify_checksums, tfc_plan_verify). */
TFC_API tfc_status *tfc_plan_open(const char *path, const tfc_plan_options *options, tfc_plan **out);
TFC_API void tfc_plan_release(tfc_plan *plan); /* NULL is fine */
/* Checks every constant's bytes against its checksum now, whatever verify_checksums says: NULL
 * when all match, else TFC_INVALID_PLAN naming the first constant that does not. Reads all the
 * weights once per plan; the answer is kept and shared with tfc_session_create's check, so a
 * later call or session costs nothing. Thread-safe. */
TFC_API tfc_status *tfc_plan_verify(const tfc_plan *plan);

/* Metadata. */
typedef struct tfc_plan_info {
  uint32_t format_major, format_minor;
  const char *producer;
  const char *target;  /* "cpu" or "cuda" (also tfc_plan_target) */
  const char *family;  /* "encoder", "decoder", "encoder_decoder", "classifier" */
  const char *model_name;
  int32_t start_id, end_id, unk_id, pad_id; /* -1 when absent */
  uint64_t weights_bytes;
} tfc_plan_info;
TFC_API void tfc_plan_get_info(const tfc_plan *plan, tfc_plan_info *out);
/* The dtype of the plan's float activations and weights (plan format 2.1): "fp32", "fp16" or
 * "bf16" (float inputs and outputs are f32 whatever it is). Owned by the plan; NULL for NULL. */
TFC_API const char *tfc_plan_precision(const tfc_plan *plan);
/* The dtype of the plan's Linear/GatedLinear constant weights (plan format 2.2): "fp32", or
 * "bf16" / "int8" for a cpu plan compiled with --precision bf16|int8 (weight-only: its
 * activations are fp32, tfc_plan_precision says so). Owned by the plan; NULL for NULL. */
TFC_API const char *tfc_plan_weight_precision(const tfc_plan *plan);
/* The target the plan was compiled for: "cpu" or "cuda". Owned by the plan; NULL for NULL. */
TFC_API const char *tfc_plan_target(const tfc_plan *plan);

/* Functions and their signatures. */
TFC_API size_t tfc_plan_num_functions(const tfc_plan *plan);
TFC_API const char *tfc_plan_function_name(const tfc_plan *plan, size_t index);
TFC_API uint64_t tfc_plan_arena_bytes(const tfc_plan *plan, const char *function);

/* One dim of a signature: static (symbol == NULL, size >= 0) or symbolic with bounds. */
typedef struct tfc_dim_info {
  int64_t size;       /* static size, or -1 */
  const char *symbol; /* e.g. "batch", or NULL */
  int64_t min, max;   /* bounds of the symbol (size, size when static) */
} tfc_dim_info;

#define TFC_MAX_RANK 8
typedef struct tfc_port_info {
  const char *name;
  tfc_dtype dtype;
  int32_t rank;
  tfc_dim_info dims[TFC_MAX_RANK];
} tfc_port_info;

/* Returns TFC_NOT_FOUND (as a status) for an unknown function or index out of range. */
TFC_API tfc_status *tfc_plan_num_ports(const tfc_plan *plan, const char *function, size_t *num_inputs,
                               size_t *num_outputs);
TFC_API tfc_status *tfc_plan_input_info(const tfc_plan *plan, const char *function, size_t index,
                                tfc_port_info *out);
TFC_API tfc_status *tfc_plan_output_info(const tfc_plan *plan, const char *function, size_t index,
                                 tfc_port_info *out);

/* What tfc_session_run requires of an input's values besides its dtype and shape, found when the
 * plan is opened from what the function does with the input. Ids select rows of a table (the
 * token embedding): a negative id or one past the table is refused, where ONNX Gather would read
 * a negative one from the end. A mask feeds an attention's padding mask (or the scores of a
 * softmax): each value must be 0 or 1. Only integer and bool inputs get these kinds. */
typedef enum tfc_input_kind {
  TFC_INPUT_DATA = 0, /* no constraint on the values */
  TFC_INPUT_IDS = 1,  /* row indices into a table: each value in [0, id_bound) */
  TFC_INPUT_MASK = 2, /* an attention mask: each value 0 or 1 */
} tfc_input_kind;
typedef struct tfc_input_values {
  tfc_input_kind kind;
  int64_t id_bound; /* TFC_INPUT_IDS: the table's rows (e.g. the vocabulary size); 0 otherwise */
} tfc_input_values;
/* Returns TFC_NOT_FOUND (as a status) for an unknown function or index out of range. */
TFC_API tfc_status *tfc_plan_input_values(const tfc_plan *plan, const char *function, size_t index,
                                  tfc_input_values *out);

/* ---- session --------------------------------------------------------------------------- */
/* The most worker threads a session may use. OpenMP (libgomp) crashes or exits the process on
 * huge team sizes; tfc_session_create refuses a num_threads above this (TFC_INVALID_ARGUMENT),
 * and the default (all cores, or OMP_NUM_THREADS) is capped at it. */
#define TFC_MAX_THREADS 1024

typedef struct tfc_session_options {
  size_t struct_size;  /* sizeof(tfc_session_options), set by tfc_session_options_init */
  int32_t num_threads; /* 0 (default): the runtime's default (all cores); at most TFC_MAX_THREADS */
  /* (added in 0.2) the device the session runs on: "cpu", "cuda", "cuda:N". NULL or ""
   * (default): device 0 of the backend that runs the plan's target. A device that cannot be
   * opened here, or whose backend does not run the plan's target, fails the creation with
   * TFC_UNAVAILABLE and says why. The string is read during tfc_session_create only. */
  const char *device;
} tfc_session_options;
TFC_API void tfc_session_options_init(tfc_session_options *options);

TFC_API tfc_status *tfc_session_create(tfc_plan *plan, const tfc_session_options *options,
                               tfc_session **out);
TFC_API void tfc_session_release(tfc_session *session); /* NULL is fine */

/* Runs `function` ("forward") on `inputs` (matched by name; every input of the signature must be
 * given once). On success *out holds the outputs in signature order. */
TFC_API tfc_status *tfc_session_run(tfc_session *session, const char *function, const tfc_tensor *inputs,
                            size_t num_inputs, tfc_outputs **out);

TFC_API size_t tfc_outputs_count(const tfc_outputs *outputs);
/* Fills `out` with a view of output `index` (valid until tfc_outputs_free). */
TFC_API tfc_status *tfc_outputs_get(const tfc_outputs *outputs, size_t index, tfc_tensor *out);
TFC_API void tfc_outputs_free(tfc_outputs *outputs); /* NULL is fine */

/* ---- generation ------------------------------------------------------------------------ */
/* Plans of generative models (causal decoders, encoder-decoders) carry how they generate:
 * "kv-cache" (functions prefill / decode_step, and encode for encoder-decoders, over a KV cache
 * in the session) or "recompute" (the compiler could not derive them: `reason` says why; each
 * step then runs forward on the whole sequence). */
typedef struct tfc_generation_info {
  const char *mode;        /* "kv-cache", "recompute", or NULL when the plan does not generate */
  const char *reason;      /* why "recompute" ("" otherwise) */
  const char *token_input; /* the input carrying the token sequence, e.g. "input_ids" */
  int64_t max_length;      /* most tokens (prompt + generated) per sequence */
  int64_t max_batch;       /* most sequences at once (prompts x beam width) */
  int64_t vocab_size;      /* logits per position */
} tfc_generation_info;
TFC_API void tfc_plan_get_generation_info(const tfc_plan *plan, tfc_generation_info *out);

/* The plan's vocabulary (token strings by id), when the model has one: count 0 otherwise.
 * tfc_plan_token returns NULL for an id out of range. */
TFC_API size_t tfc_plan_vocabulary_size(const tfc_plan *plan);
TFC_API const char *tfc_plan_token(const tfc_plan *plan, int64_t id);

/* ---- text: the model's tokenizer -------------------------------------------------------- */
/* Plans of models imported with their tokenizer (WordPiece as BERT uses it, byte-level BPE as
 * GPT-2 does) turn text into ids and back, exactly as Hugging Face `tokenizers` does. */
TFC_API int tfc_plan_has_tokenizer(const tfc_plan *plan); /* 1 or 0 */

typedef struct tfc_ids tfc_ids; /* token ids owned by the runtime */
/* Tokenizes `length` bytes of UTF-8 `text` (invalid bytes become U+FFFD). Added and special
 * tokens written in the text ([MASK], <|endoftext|>, ...) become their ids first, as Hugging
 * Face does. With `add_special`, BERT's [CLS] ... [SEP] are added; the result is truncated to
 * the tokenizer's max length (tfc_ids_untruncated_count tells whether it was). */
TFC_API tfc_status *tfc_plan_tokenize(const tfc_plan *plan, const char *text, size_t length,
                              int add_special, tfc_ids **out);
/* Flags of tfc_plan_tokenize_flags (other bits are refused). */
#define TFC_TOKENIZE_ADD_SPECIAL 1u   /* [CLS] ... [SEP] (BERT) */
#define TFC_TOKENIZE_NO_TRUNCATION 2u /* every id, however long (e.g. a generation prompt) */
/* tfc_plan_tokenize with flags. */
TFC_API tfc_status *tfc_plan_tokenize_flags(const tfc_plan *plan, const char *text, size_t length,
                                    unsigned flags, tfc_ids **out);
TFC_API size_t tfc_ids_count(const tfc_ids *ids);
TFC_API const int64_t *tfc_ids_data(const tfc_ids *ids);
/* The ids the text has without truncation (special tokens included): more than tfc_ids_count
 * when the text was truncated. */
TFC_API size_t tfc_ids_untruncated_count(const tfc_ids *ids);
TFC_API void tfc_ids_free(tfc_ids *ids); /* NULL is fine */
/* The text of `ids` (UTF-8, free with tfc_string_free): `*length` bytes followed by a NUL. The
 * text may itself hold NUL bytes (U+0000 decodes to one): read `*length` bytes, not up to the
 * first NUL. `skip_special` drops special tokens ([CLS], [SEP], [PAD], [MASK], <|endoftext|>,
 * ...). Fails for an id outside the vocabulary. `length` may be NULL. */
TFC_API tfc_status *tfc_plan_detokenize_n(const tfc_plan *plan, const int64_t *ids, size_t count,
                                  int skip_special, char **out, size_t *length);
/* tfc_plan_detokenize_n without the length: the text ends at its first NUL byte for a caller
 * that reads it as a C string. Prefer tfc_plan_detokenize_n. */
TFC_API tfc_status *tfc_plan_detokenize(const tfc_plan *plan, const int64_t *ids, size_t count,
                                int skip_special, char **out);
TFC_API void tfc_string_free(char *s); /* NULL is fine */

typedef enum tfc_strategy { TFC_GREEDY = 0, TFC_SAMPLE = 1, TFC_BEAM = 2 } tfc_strategy;

typedef struct tfc_generate_options {
  size_t struct_size;        /* sizeof(tfc_generate_options), set by tfc_generate_options_init;
                                members past a smaller struct_size take their defaults */
  tfc_strategy strategy;     /* TFC_GREEDY (default) */
  int64_t max_new_tokens;    /* per sequence (default 32) */
  int64_t eos_id;            /* stop a sequence at this id; -1 (default): never stop early */
  float temperature;         /* TFC_SAMPLE: > 0 (default 1) */
  int64_t top_k;             /* TFC_SAMPLE: 0 (default) = off */
  float top_p;               /* TFC_SAMPLE: (0, 1] (default 1) */
  uint64_t seed;             /* TFC_SAMPLE: same seed and inputs give the same tokens */
  int64_t beam_width;        /* TFC_BEAM (default 1 = greedy) */
  float length_penalty;      /* TFC_BEAM: score = sum log p / length^penalty (default 1) */
} tfc_generate_options;
TFC_API void tfc_generate_options_init(tfc_generate_options *options);

/* Called with each new token of sequence `row` as it is chosen (greedy, sample; for beam search
 * the tokens of the best sequences once the search ends). Return 0 to stop generating. */
typedef int (*tfc_token_callback)(void *user_data, int64_t row, int64_t token);

typedef struct tfc_generation tfc_generation;

/* Generates from `num_prompts` prompts: prompt i is tokens[offsets[i] .. offsets[i+1]) (offsets
 * has num_prompts + 1 entries; prompts may differ in length). `inputs` are the model's other
 * inputs with one row per prompt (e.g. an encoder-decoder's src_ids and src_mask); inputs that
 * cover every position (an attention mask) are built by the runtime. `callback` may be NULL.
 * The session's KV cache is overwritten. */
TFC_API tfc_status *tfc_session_generate(tfc_session *session, const int64_t *tokens,
                                 const int64_t *offsets, size_t num_prompts,
                                 const tfc_tensor *inputs, size_t num_inputs,
                                 const tfc_generate_options *options, tfc_token_callback callback,
                                 void *user_data, tfc_generation **out);
TFC_API size_t tfc_generation_count(const tfc_generation *generation);
/* Sequence `index`: the prompt followed by the generated tokens; NULL when out of range. */
TFC_API const int64_t *tfc_generation_tokens(const tfc_generation *generation, size_t index,
                                     size_t *length);
typedef struct tfc_generation_stats {
  int64_t prompt_tokens, generated_tokens, decode_steps;
  double prefill_ms; /* the prompt (encode + prefill) */
  double decode_ms;  /* every decode step */
} tfc_generation_stats;
TFC_API void tfc_generation_get_stats(const tfc_generation *generation, tfc_generation_stats *out);
TFC_API void tfc_generation_free(tfc_generation *generation); /* NULL is fine */

/* ---- profiling ------------------------------------------------------------------------- */
/* When enabled, each run accumulates time per kernel. */
TFC_API void tfc_session_set_profiling(tfc_session *session, int enable);
typedef struct tfc_kernel_profile {
  const char *kind;  /* "Linear", "Attention", ... */
  const char *name;  /* op location, e.g. "encoder.layers.0.self_attn" */
  uint64_t calls;
  double total_ms;
} tfc_kernel_profile;
TFC_API size_t tfc_session_profile_count(const tfc_session *session, const char *function);
TFC_API tfc_status *tfc_session_profile_get(const tfc_session *session, const char *function, size_t index,
                                    tfc_kernel_profile *out);
TFC_API void tfc_session_profile_reset(tfc_session *session);

/* ---- attention weights ------------------------------------------------------------------ */
/* On request a session keeps what its attention kernels computed: the softmax probabilities of
 * every query row over the keys it attends, per kernel (one per layer and attention block) and
 * run, as f32 [batch, heads, queries, keys] (a row sums to 1; a masked key gets 0). The CPU
 * backend records them (the fused kernel keeps no score matrix: a second pass computes the
 * rows, so a captured run is slower); off (the default) nothing is computed or kept.
 * tfc_session_set_attention_capture(s, 1) starts capturing (TFC_UNSUPPORTED on a device whose
 * backend does not record them); 0 stops and frees them. Records accumulate over runs (a
 * generation: prefill, then one record per kernel and decode step, whose queries are the new
 * tokens and keys every cached position) until tfc_session_attention_clear; a failed run adds
 * none. Views stay valid until the next run, clear, or capture off. */
TFC_API tfc_status *tfc_session_set_attention_capture(tfc_session *session, int enable);
TFC_API size_t tfc_session_attention_count(const tfc_session *session); /* 0 while off */
typedef struct tfc_attention_weights {
  const char *function; /* the plan function that ran: "forward", "prefill", "decode_step" */
  const char *kernel;   /* the attention kernel's name (its op location) */
  int64_t run;          /* the run since capture began (or the last clear) that recorded it */
  int64_t layer;        /* the kernel's ordinal among that run's attention kernels */
  int64_t dims[4];      /* batch, heads, queries, keys */
  const float *data;    /* dims[0] * dims[1] * dims[2] * dims[3] floats, row-major */
} tfc_attention_weights;
/* Record `index` (in the order the kernels ran); TFC_NOT_FOUND when out of range. */
TFC_API tfc_status *tfc_session_attention_get(const tfc_session *session, size_t index,
                                      tfc_attention_weights *out);
TFC_API void tfc_session_attention_clear(tfc_session *session); /* NULL is fine */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TFC_RUNTIME_H */
