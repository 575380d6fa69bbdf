namespace Broker.Api; internal static class Placeholder;
