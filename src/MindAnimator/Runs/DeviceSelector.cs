using TorchSharp;

namespace MindAnimator.Runs;

/// <summary>Turns `--device auto|cpu|cuda` into a TorchSharp device.</summary>
public static class DeviceSelector
{
    public static torch.Device Resolve(string device)
    {
        switch (device)
        {
            case "cpu":
                return torch.CPU;
            case "cuda":
                if (!torch.cuda.is_available())
                {
                    throw new MindAnimatorException(
                        "--device cuda: no CUDA device is available to TorchSharp (build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU).");
                }
                return torch.CUDA;
            case "auto":
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            default:
                throw new MindAnimatorException($"--device: '{device}' is not one of auto, cpu, cuda.");
        }
    }

    /// <summary>Sets TorchSharp's intra-op threads (0 = leave the default, all cores).</summary>
    public static void ConfigureThreads(int threads)
    {
        if (threads > 0)
        {
            torch.set_num_threads(threads);
        }
    }
}
