namespace Broker.Grains.Runtime; internal static class Placeholder;
