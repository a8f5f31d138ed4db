//===- Module.cpp - tfc._tfc: the extension module of the Python package -------------------===//
//
// Binds the runtime's C API (tfc_runtime.h) only: no runtime internals, so the module works
// with a libtfc_runtime.so that exports nothing but tfc_* symbols. The public Python API is
// python/tfc/*.py, built on these classes:
//   Error        RuntimeError subclass; `.code` is the tfc_code name ("TFC_NOT_FOUND")
//   Plan         tfc_plan (Plan.h)
//   Session      tfc_session (Session.h)
//   TokenStream  a generation streamed from its own thread (TokenStream.h)
//
//===----------------------------------------------------------------------------------------===//
#include "Plan.h"
#include "Session.h"
#include "Status.h"
#include "TokenStream.h"

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace tfc::python;

namespace {

PyObject *errorType = nullptr; // tfc._tfc.Error, kept for the module's lifetime

void raiseError(tfc_code code, const char *message) {
  py::object type = py::reinterpret_borrow<py::object>(errorType);
  py::object error = type(py::str(message));
  error.attr("code") = py::str(tfc_code_name(code));
  PyErr_SetObject(errorType, error.ptr());
}

py::tuple deviceCheck(const std::string &device) {
  char why[512] = {0};
  int ok = tfc_device_check(device.c_str(), why, sizeof why);
  return py::make_tuple(ok != 0, py::str(why));
}

py::list backends() {
  py::list names;
  for (size_t i = 0, n = tfc_backend_count(); i < n; ++i)
    names.append(py::str(tfc_backend_name(i)));
  return names;
}

} // namespace

PYBIND11_MODULE(_tfc, m) {
  m.doc() = "tfc runtime bindings (the C API of tfc_runtime.h); use the package tfc";

  errorType = PyErr_NewExceptionWithDoc(
      "tfc.Error", "An error of the tfc runtime or compiler; .code names it (e.g. TFC_NOT_FOUND)",
      PyExc_RuntimeError, nullptr);
  if (!errorType)
    throw py::error_already_set();
  m.attr("Error") = py::handle(errorType);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const StatusError &e) {
      raiseError(e.code(), e.what());
    }
  });

  m.attr("PLAN_FORMAT_MAJOR") = TFC_RUNTIME_PLAN_FORMAT_MAJOR;
  m.attr("PLAN_FORMAT_MINOR") = TFC_RUNTIME_PLAN_FORMAT_MINOR;
  m.attr("MAX_THREADS") = TFC_MAX_THREADS;
  m.attr("TOKENIZE_ADD_SPECIAL") = TFC_TOKENIZE_ADD_SPECIAL;
  m.attr("TOKENIZE_NO_TRUNCATION") = TFC_TOKENIZE_NO_TRUNCATION;
  m.def("backends", &backends, "The backends this runtime was built with ('cpu', 'cuda').");
  m.def("device_check", &deviceCheck, py::arg("device"),
        "(ok, why): whether `device` ('cpu', 'cuda', 'cuda:N') can be opened here.");
  m.def("wait_policy", [] { return std::string(tfc_wait_policy()); },
        "How the CPU backend's worker threads wait (TFC_WAIT_POLICY).");

  py::class_<Plan, std::shared_ptr<Plan>>(m, "Plan")
      .def(py::init<const std::string &, bool, bool, const std::string &>(), py::arg("path"),
           py::arg("verify_checksums") = true, py::arg("any_target") = false,
           py::arg("device") = "")
      .def("info", &Plan::info)
      .def("functions", &Plan::functions)
      .def("arena_bytes", &Plan::arenaBytes, py::arg("function"))
      .def("ports", &Plan::ports, py::arg("function"))
      .def("generation", &Plan::generation)
      .def("has_tokenizer", &Plan::hasTokenizer)
      .def("vocabulary_size", &Plan::vocabularySize)
      .def("token", &Plan::token, py::arg("id"))
      .def("tokenize", &Plan::tokenize, py::arg("text"), py::arg("flags"))
      .def("detokenize", &Plan::detokenize, py::arg("ids"), py::arg("skip_special"))
      .def("verify", &Plan::verify);

  py::class_<Session, std::shared_ptr<Session>>(m, "Session")
      .def(py::init<const Plan &, int, const std::string &>(), py::arg("plan"),
           py::arg("threads") = 0, py::arg("device") = "")
      .def("run", &Session::run, py::arg("function"), py::arg("inputs"))
      .def("generate", &Session::generate, py::arg("tokens"), py::arg("offsets"),
           py::arg("inputs"), py::arg("options"))
      .def("set_profiling", &Session::setProfiling, py::arg("on"))
      .def("profile", &Session::profile, py::arg("function"))
      .def("reset_profile", &Session::resetProfile)
      .def("last_input_addresses", &Session::lastInputAddresses);

  py::class_<TokenStream, std::shared_ptr<TokenStream>>(m, "TokenStream")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &TokenStream::next)
      .def("close", &TokenStream::close)
      .def("finished", &TokenStream::finished)
      .def("sequences", &TokenStream::sequences)
      .def("stats", &TokenStream::stats);
}
