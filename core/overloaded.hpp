// The visitor of several lambdas for std::visit: Overloaded{[](const A&) {...}, [](const B&) {...}}.
#pragma once

namespace sshard::core {

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
// C++20 deduces this for aggregates; clang 14 (the fuzz build's compiler) still needs the guide.
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

} // namespace sshard::core
