#include "core/mailbox.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <thread>
#include <vector>

namespace sshard::core {
namespace {

using namespace std::chrono_literals;

bool readable(int fd) {
    pollfd watch{fd, POLLIN, 0};
    return ::poll(&watch, 1, 0) == 1 && (watch.revents & POLLIN) != 0;
}

TEST(Mailbox, TakesEverythingPostedInOrder) {
    Mailbox<int> mailbox;
    mailbox.post(1);
    mailbox.post(2);
    mailbox.post(3);
    EXPECT_EQ(mailbox.take(), (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(mailbox.take().empty());
    EXPECT_EQ(mailbox.wake_fd(), -1);
}

TEST(Mailbox, WaitReturnsAtOnceWhenAMessageWaitsAndAtTheDeadlineWhenNone) {
    Mailbox<int> mailbox;
    mailbox.wait(std::chrono::steady_clock::now() + 10ms);
    EXPECT_TRUE(mailbox.take().empty());
    mailbox.post(7);
    mailbox.wait(std::nullopt);
    EXPECT_EQ(mailbox.take(), std::vector<int>{7});
}

TEST(Mailbox, DescriptorIsReadableFromAPostUntilTheTake) {
    Mailbox<int> mailbox(Mailbox<int>::Wake::descriptor);
    ASSERT_GE(mailbox.wake_fd(), 0);
    EXPECT_FALSE(readable(mailbox.wake_fd()));
    mailbox.post(1);
    mailbox.post(2);
    EXPECT_TRUE(readable(mailbox.wake_fd()));
    EXPECT_EQ(mailbox.take(), (std::vector<int>{1, 2}));
    EXPECT_FALSE(readable(mailbox.wake_fd()));
}

using Numbered = std::pair<int, int>; // a producer, and the message's number among its own

// Producers post while the taker waits and takes, as transports and the scheduler do: every message arrives
// once, each producer's in the order it posted them, and no wake-up is lost (a lost one fails the bounded wait).
void many_producers_one_taker(Mailbox<Numbered>::Wake wake) {
    constexpr int k_producers = 4;
    constexpr int k_each = 2000;
    Mailbox<Numbered> mailbox(wake);
    std::vector<std::jthread> producers; // joined however the test ends
    for (int p = 0; p < k_producers; ++p) {
        producers.emplace_back([&mailbox, p] {
            for (int i = 0; i < k_each; ++i) {
                mailbox.post({p, i});
            }
        });
    }
    std::vector<int> next(k_producers, 0);
    int received = 0;
    while (received < k_producers * k_each) {
        if (wake == Mailbox<Numbered>::Wake::descriptor) {
            pollfd watch{mailbox.wake_fd(), POLLIN, 0};
            ASSERT_EQ(::poll(&watch, 1, 10'000), 1) << "a post did not wake the poller";
        } else {
            mailbox.wait(std::chrono::steady_clock::now() + 10s);
        }
        auto messages = mailbox.take();
        // A descriptor may stay readable for a message that the previous take already had.
        ASSERT_TRUE(!messages.empty() || wake == Mailbox<Numbered>::Wake::descriptor) << "a post did not wake wait()";
        for (auto [producer, index] : messages) {
            ASSERT_EQ(index, next[producer]) << "producer " << producer;
            ++next[producer];
            ++received;
        }
    }
    producers.clear();
    EXPECT_TRUE(mailbox.take().empty());
}

TEST(Mailbox, ManyProducersOneWaitingTaker) {
    many_producers_one_taker(Mailbox<Numbered>::Wake::condition);
}

TEST(Mailbox, ManyProducersOnePollingTaker) {
    many_producers_one_taker(Mailbox<Numbered>::Wake::descriptor);
}

} // namespace
} // namespace sshard::core
