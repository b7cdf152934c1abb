#include "core/transfer_paths.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include "core/error.hpp"

namespace sshard::core {

std::optional<std::string> normal_relative_path(std::string_view path) {
    if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    std::string normal;
    std::size_t begin = 0;
    while (begin <= path.size()) {
        std::size_t end = std::min(path.find('/', begin), path.size());
        std::string_view part = path.substr(begin, end - begin);
        begin = end + 1;
        if (part == "..") {
            return std::nullopt;
        }
        if (part.empty() || part == ".") {
            continue;
        }
        normal += (normal.empty() ? "" : "/") + std::string(part);
    }
    return normal.empty() ? std::nullopt : std::optional(normal);
}

std::optional<std::string> collect_destination(std::string_view path) {
    auto normal = normal_relative_path(path);
    if (!normal) {
        return normal;
    }
    std::string first = normal->substr(0, normal->find('/'));
    for (const char* own : {"spec.yaml", "journal.jsonl", "lock", "out", "inputs"}) {
        if (first == own) {
            return std::nullopt;
        }
    }
    return normal;
}

namespace {

// Calls `literal` with each run of text and `placeholder` with each name, in order.
void walk_path(std::string_view path, const std::function<void(std::string_view)>& literal,
               const std::function<void(std::string_view)>& placeholder) {
    std::size_t i = 0;
    while (i < path.size()) {
        if (path.compare(i, 2, "{{") == 0 || path.compare(i, 2, "}}") == 0) {
            literal(path.substr(i, 1));
            i += 2;
            continue;
        }
        std::size_t close = path[i] == '{' ? path.find('}', i) : std::string_view::npos;
        if (close != std::string_view::npos) {
            placeholder(path.substr(i + 1, close - i - 1));
            i = close + 1;
            continue;
        }
        literal(path.substr(i, 1));
        ++i;
    }
}

std::string errno_text(const std::string& path) {
    return fmt::format("'{}': {}", path, std::strerror(errno));
}

void scan(const std::string& root, const std::string& relative, std::vector<StageFile>& files,
          std::vector<std::string>* directories) {
    std::string path = relative.empty() ? root : root + "/" + relative;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
        throw Error(fmt::format("cannot stage {}", errno_text(path)));
    }
    if (S_ISLNK(st.st_mode)) {
        throw Error(fmt::format("cannot stage '{}': it is a symbolic link (staging never follows links)", path));
    }
    if (S_ISREG(st.st_mode)) {
        files.push_back({relative, static_cast<std::uint64_t>(st.st_size), static_cast<unsigned>(st.st_mode & 07777),
                         static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        throw Error(fmt::format("cannot stage '{}': it is neither a file nor a directory", path));
    }
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) {
        throw Error(fmt::format("cannot stage {}", errno_text(path)));
    }
    std::vector<std::string> names;
    while (const dirent* entry = readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") {
            names.push_back(std::move(name));
        }
    }
    closedir(dir);
    if (directories != nullptr && !relative.empty()) {
        directories->push_back(relative);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        scan(root, relative.empty() ? name : relative + "/" + name, files, directories);
    }
}

} // namespace

std::vector<std::string> path_placeholders(std::string_view path) {
    std::vector<std::string> names;
    walk_path(
        path, [](std::string_view) {}, [&](std::string_view name) { names.emplace_back(name); });
    return names;
}

std::string fill_path(std::string_view path, const std::function<std::string(std::string_view name)>& value) {
    std::string filled;
    walk_path(
        path, [&](std::string_view text) { filled += text; }, [&](std::string_view name) { filled += value(name); });
    return filled;
}

std::vector<StageFile> scan_stage_tree(const std::string& source, std::vector<std::string>* directories) {
    std::vector<StageFile> files;
    scan(source, "", files, directories);
    return files;
}

} // namespace sshard::core
