// The jobs of a spec and the `needs` between them: one graph for the loader (unknown needs and cycles), the plan
// (dispatch order) and the scheduler (when a waiting job may start, or must be skipped).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/spec.hpp"

namespace sshard::core {

class JobGraph {
public:
    // A need that names no job of the spec.
    struct UnknownNeed {
        std::size_t job = 0; // the index of the job that has it
        std::string need;
    };

    // A cycle of needs, found at `job`: `path` names its jobs in order and ends with the first one again.
    struct Cycle {
        std::size_t job = 0;
        std::vector<std::string> path;
    };

    // What a waiting job may do, given the jobs it needs (see readiness()).
    struct Readiness {
        bool ready = false;                     // every job it needs is done and fully succeeded
        std::optional<std::size_t> failed_need; // the first job it needs that is done but did not fully succeed
    };

    // How a job ended: nullopt while it is not done, else whether all of its shards succeeded.
    using JobResult = std::function<std::optional<bool>(std::size_t job)>;

    // Keeps a reference: `jobs` (by index, in spec order; names unique) must outlive the graph.
    explicit JobGraph(const std::vector<JobSpec>& jobs);

    // Every need that names no job, in spec order.
    std::vector<UnknownNeed> unknown_needs() const;
    // Every cycle once, in the order a depth-first walk in spec order meets them. Needs must all be known.
    std::vector<Cycle> cycles() const;
    // Job indices in dispatch order: a job comes after every job it needs; among jobs free to go, the highest
    // priority first, then spec order. Needs must all be known and form no cycle.
    std::vector<std::size_t> dispatch_order() const;
    // Whether waiting job `job` may start: a job that failed settles it (the job is skipped) before jobs still
    // running do. Needs must all be known.
    Readiness readiness(std::size_t job, const JobResult& result) const;

private:
    void visit(std::size_t job, std::vector<int>& colour, std::vector<std::size_t>& path,
               std::vector<Cycle>& cycles) const;

    const std::vector<JobSpec>& m_jobs;
    std::vector<std::vector<std::optional<std::size_t>>> m_needs; // by job: each need's index, nullopt if unknown
};

} // namespace sshard::core
