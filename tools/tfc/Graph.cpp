//===- Graph.cpp - tfc compile --graph FILE: the fused plan drawn through Graphviz -----------===//
#include "Graph.h"

#include "tfc/plan/PlanDot.h"
#include "tfc/support/OutputFile.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace tfc::tools {
namespace {

std::string extensionOf(const std::string &path) {
  size_t dot = path.rfind('.'), slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return "";
  return path.substr(dot + 1);
}

/// Runs `dot -T<format> -o <out>` with `text` on its standard input.
std::string runDot(const std::string &text, const std::string &format, const std::string &out) {
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) != 0)
    return std::string("cannot create a pipe for dot: ") + std::strerror(errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[0], STDIN_FILENO);
  std::string typeFlag = "-T" + format;
  char *argv[] = {const_cast<char *>("dot"), typeFlag.data(), const_cast<char *>("-o"),
                  const_cast<char *>(out.c_str()), nullptr};
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, "dot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipeFds[0]);
  if (spawned != 0) {
    close(pipeFds[1]);
    return std::string("cannot run Graphviz's dot (") + std::strerror(spawned) +
           "): install it (apt-get install graphviz; tools/setup.sh does) or give --graph a "
           ".dot file";
  }
  // dot may exit early (bad input): a broken pipe must not kill us.
  struct sigaction ignore {}, saved {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &saved);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(pipeFds[1], text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += size_t(n);
  }
  close(pipeFds[1]);
  sigaction(SIGPIPE, &saved, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "Graphviz's dot -" + typeFlag.substr(1) + " failed (exit status " +
           std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
  return "";
}

} // namespace

std::string checkGraphPath(const std::string &path) {
  std::string ext = extensionOf(path);
  if (ext == "dot" || ext == "svg" || ext == "png" || ext == "pdf")
    return "";
  return "--graph " + path + ": the file must end in .dot, .svg, .png or .pdf";
}

std::string writeGraph(const tfc::planner::Plan &plan, const std::string &path) {
  if (std::string e = checkGraphPath(path); !e.empty())
    return e;
  std::string text = tfc::planner::planToDot(plan);
  std::string ext = extensionOf(path);
  if (ext == "dot")
    return tfc::support::writeFileAtomically(path, text);
  // dot renders into the OutputFile's temporary file (or straight into a device or FIFO), which
  // replaces the target only when complete (OutputFile.h).
  tfc::support::OutputFile file;
  if (std::string e = file.open(path); !e.empty())
    return "--graph: " + e; // names the path
  const std::string out = file.tempPath().empty() ? file.target() : file.tempPath();
  if (std::string e = runDot(text, ext, out); !e.empty()) {
    file.discard();
    return "--graph " + path + ": " + e;
  }
  if (std::string e = file.commit(); !e.empty())
    return "--graph: " + e;
  return "";
}

} // namespace tfc::tools
